//! The dashboard in a real Chromium (Debian's `chromium` driven through `chromedriver`,
//! installed by `.ci/run`): the main journeys in Italian and English, with screenshots kept in
//! `target/screenshots/` for people to look at.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::server::{Server, add_user};
use crate::support::released_city;

const PASSWORD: &str = "a long enough password";

/// `chromedriver` on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

fn driver() -> Driver {
    let exe = which(&["chromedriver"]).expect(
        "chromedriver is not installed: .ci/run installs Debian's chromium and chromium-driver",
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(exe)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn browser(driver: &Driver) -> Client {
    let binary = which(&["chromium", "chromium-browser"])
        .expect("chromium is not installed: .ci/run installs Debian's chromium");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--lang=it-IT"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(shots().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Opens `url` and waits until the view has rendered.
async fn open(c: &Client, url: &str) {
    c.goto(url).await.expect("navigate");
    ready(c).await;
}

async fn ready(c: &Client) {
    // A hash change starts a render that sets `data-ready` to false, then true.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = c
            .execute("return document.body.dataset.ready === 'true'", vec![])
            .await
            .expect("script");
        if done == json!(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the view did not finish rendering"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for an element (a chart's SVG arrives after the view).
async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            return e;
        }
        assert!(Instant::now() < deadline, "no `{css}` on the page");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `check` until it holds, failing with `what` after `seconds`.
async fn until<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn text(c: &Client, css: &str) -> String {
    wait_for(c, css).await.text().await.expect("text")
}

async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.expect("find").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_main_journeys_work_in_chromium_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let lab = released_city(dir.path(), "0.1");
    add_user(&lab, "anna", "analyst", None);
    add_user(&lab, "carlo", "checker", None);
    add_user(&lab, "ada", "admin", None);
    let srv = Server::start(&lab);
    let d = driver();
    let c = browser(&d).await;
    let base = srv.base.clone();

    // Home, in Italian: the released indicators, the navigation, the language switch.
    open(&c, &format!("{base}/")).await;
    assert!(c.current_url().await.unwrap().as_str().ends_with("/it/"));
    assert_eq!(text(&c, "h1").await, "Inizio");
    assert!(count(&c, ".cards li").await >= 10);
    assert_eq!(text(&c, "nav a[aria-current=page]").await, "Inizio");
    shot(&c, "01-home-it").await;

    // Keyboard: the first Tab reaches the skip link.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let focused = c
        .execute("return document.activeElement.className", vec![])
        .await
        .unwrap();
    assert_eq!(focused, json!("skip"));

    // The explorer: chart, table and map side by side, the view's download.
    wait_for(&c, "a[href*='share_elderly_65']")
        .await
        .click()
        .await
        .unwrap();
    ready(&c).await;
    assert_eq!(text(&c, "h1").await, "Quota di residenti con 65 anni e più");
    wait_for(&c, "figure[aria-label=Andamento] svg").await;
    wait_for(&c, "figure[aria-label=Mappa] svg").await;
    let rows = count(&c, "table tbody tr").await;
    assert!(rows > 5, "{rows} zone rows");
    let first = text(&c, "table tbody tr td.num").await;
    assert!(first.contains(','), "Italian decimals: {first}");
    let download = wait_for(&c, "a[download]")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(download.contains("format=csv"), "{download}");
    shot(&c, "02-explore-zones-it").await;

    // Changing a list redraws the view: districts, with bars instead of the map.
    c.execute(
        "const s = document.querySelector('select[name=level]'); s.value = 'district'; \
         s.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![],
    )
    .await
    .unwrap();
    ready(&c).await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .contains("level=district")
    );
    wait_for(&c, "figure[aria-label=Mappa] svg").await;
    assert!(count(&c, "table tbody tr").await < rows);
    shot(&c, "03-explore-districts-it").await;

    // The same view in English.
    open(
        &c,
        &format!("{base}/en/#/explore?indicator=share_elderly_65&level=district"),
    )
    .await;
    assert_eq!(text(&c, "nav a[aria-current=page]").await, "Explore");
    wait_for(&c, "figure[aria-label=Trend] svg").await;
    let cells = c
        .execute(
            "return [...document.querySelectorAll('table tbody td.num')].map(e => e.textContent)",
            vec![],
        )
        .await
        .unwrap();
    let cells: Vec<String> = serde_json::from_value(cells).unwrap();
    assert!(
        cells.iter().any(|v| v.contains('.')) && !cells.iter().any(|v| v.contains(',')),
        "English decimals: {cells:?}"
    );
    shot(&c, "04-explore-en").await;

    // Benchmarks: the funnel plot and its table.
    open(
        &c,
        &format!("{base}/en/#/benchmark?indicator=share_elderly_65&level=district"),
    )
    .await;
    wait_for(&c, "figure svg").await;
    assert!(count(&c, "table tbody tr").await >= 2);
    shot(&c, "05-benchmark-en").await;

    // Needs against supply.
    open(&c, &format!("{base}/it/#/needs")).await;
    wait_for(&c, "figure svg").await;
    assert!(count(&c, "table tbody tr").await >= 5);
    shot(&c, "06-needs-it").await;

    // The public map of services: a search, results and the map.
    open(&c, &format!("{base}/it/#/services")).await;
    let q = wait_for(&c, "input[name=q]").await;
    q.send_keys("assistenza anziani").await.unwrap();
    wait_for(&c, "form.controls button")
        .await
        .click()
        .await
        .unwrap();
    ready(&c).await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .contains("q=assistenza")
    );
    assert!(count(&c, "ol.hits li").await > 0);
    wait_for(&c, "figure svg").await;
    shot(&c, "07-services-it").await;
    wait_for(&c, "ol.hits li a").await.click().await.unwrap();
    ready(&c).await;
    assert!(!text(&c, "h1").await.is_empty());

    // Reports: links to HTML and PDF.
    open(&c, &format!("{base}/en/#/reports")).await;
    let html = wait_for(&c, "a[href*='format=html']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(html.contains("lang=en"), "{html}");
    shot(&c, "08-reports-en").await;
    c.goto(&format!("{base}{html}")).await.unwrap();
    let lang = c
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(lang, json!("en"));

    // The analyst logs in and runs SQL over microdata; the public never sees the lab.
    open(&c, &format!("{base}/it/#/lab")).await;
    assert!(c.current_url().await.unwrap().as_str().ends_with("#/login"));
    login(&c, "anna").await;
    assert!(text(&c, "main").await.contains("anna (analyst)"));
    wait_for(&c, "textarea[name=sql]").await;
    wait_for(&c, "section.panel form button")
        .await
        .click()
        .await
        .unwrap();
    until(60, "the query gave no rows", || async {
        count(&c, "section.panel table tbody tr").await > 0
    })
    .await;
    shot(&c, "09-lab-analyst-it").await;
    logout(&c).await;

    // The checker sees the gate; the admin sees accounts and verifies the audit trail.
    login(&c, "carlo").await;
    assert!(text(&c, "main").await.contains("annual"));
    shot(&c, "10-lab-checker-it").await;
    logout(&c).await;
    open(&c, &format!("{base}/en/#/login")).await;
    login(&c, "ada").await;
    wait_for(&c, "section.panel button.secondary")
        .await
        .click()
        .await
        .unwrap();
    until(30, "the audit chain was not verified", || async {
        text(&c, "main").await.contains('✓')
    })
    .await;
    assert!(text(&c, "main").await.contains("login"));
    shot(&c, "11-lab-admin-en").await;

    c.close().await.unwrap();
}

async fn login(c: &Client, name: &str) {
    if !c.current_url().await.unwrap().as_str().contains("#/login") {
        let base = c.current_url().await.unwrap();
        let mut url = base.clone();
        url.set_fragment(Some("/login"));
        open(c, url.as_str()).await;
    }
    wait_for(c, "input[name=name]")
        .await
        .send_keys(name)
        .await
        .unwrap();
    wait_for(c, "input[name=password]")
        .await
        .send_keys(PASSWORD)
        .await
        .unwrap();
    wait_for(c, "form.controls button")
        .await
        .click()
        .await
        .unwrap();
    until(
        30,
        &format!("login as {name} did not reach the lab"),
        || async { c.current_url().await.unwrap().as_str().contains("#/lab") },
    )
    .await;
    ready(c).await;
}

async fn logout(c: &Client) {
    wait_for(c, "#account button").await.click().await.unwrap();
    until(30, "logout did not finish", || async {
        count(c, "#account a[href='#/login']").await > 0
    })
    .await;
}
