//! The services map: the registry's services on a base map of the zones, listed by zone and
//! social risk (each service under the first risk it addresses, the others named), with a
//! small filter.
//!
//! Only public facts of organizations, services and locations reach the page (names,
//! description, address, zone, social risks, target groups, ages, whether free): no contact,
//! phone or e-mail of anyone. Inactive and defunct services, and services of inactive or
//! defunct organizations, are left out.

use std::collections::BTreeMap;
use std::path::Path;

use registry::codes::{SocialRisk, Status, TargetGroup};
use registry::{Address, Location, Organization, Registry, Service, ServiceAtLocation};

use super::html::{self, Crumb, esc, frame};
use super::words::{self, Words};
use super::{Ctx, Lang, Page};
use crate::ReportError;
use crate::chart::{self, ChartOptions, MapPoint};

/// One service at one place (or a service without a place), as the public sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The service at location's id, or the service's id when it has no place.
    pub key: String,
    pub service: String,
    pub organization: String,
    pub description: Option<String>,
    pub risks: Vec<SocialRisk>,
    pub groups: Vec<TargetGroup>,
    pub free: Option<bool>,
    pub min_age: Option<u32>,
    pub max_age: Option<u32>,
    /// The location's name.
    pub location: Option<String>,
    /// Street, postal code and town.
    pub address: Option<String>,
    /// The statistical zone's code.
    pub zone: Option<String>,
    /// (latitude, longitude).
    pub coords: Option<(f64, f64)>,
    pub temporarily_closed: bool,
}

/// The public services of the registry at `path`, by service and place id.
pub(super) fn load(path: &Path) -> Result<Vec<Place>, ReportError> {
    let fail = |e: registry::RegistryError| {
        let message = format!("{}: {e}", path.display());
        if e.is_input() {
            ReportError::Input(message)
        } else {
            ReportError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            }
        }
    };
    let reg = Registry::open(path).map_err(fail)?;
    let orgs: BTreeMap<String, Organization> = reg
        .list::<Organization>()
        .map_err(fail)?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let locations: BTreeMap<String, Location> = reg
        .list::<Location>()
        .map_err(fail)?
        .into_iter()
        .map(|l| (l.id.clone(), l))
        .collect();
    let mut addresses: BTreeMap<String, Address> = BTreeMap::new();
    for a in reg.list::<Address>().map_err(fail)? {
        addresses.entry(a.location_id.clone()).or_insert(a);
    }
    let mut at: BTreeMap<String, Vec<ServiceAtLocation>> = BTreeMap::new();
    for s in reg.list::<ServiceAtLocation>().map_err(fail)? {
        at.entry(s.service_id.clone()).or_default().push(s);
    }
    let open = |s: Status| matches!(s, Status::Active | Status::TemporarilyClosed);
    let mut out = Vec::new();
    for s in reg.list::<Service>().map_err(fail)? {
        let Some(org) = orgs.get(&s.organization_id) else {
            continue;
        };
        if !open(s.status) || !open(org.status) {
            continue;
        }
        let base = Place {
            key: s.id.clone(),
            service: s.name.clone(),
            organization: org.name.clone(),
            description: s.description.clone().filter(|d| !d.trim().is_empty()),
            risks: s.risks.clone(),
            groups: s.target_groups.clone(),
            free: s.free,
            min_age: s.minimum_age,
            max_age: s.maximum_age,
            location: None,
            address: None,
            zone: None,
            coords: None,
            temporarily_closed: s.status == Status::TemporarilyClosed,
        };
        let places = at.get(&s.id).map(Vec::as_slice).unwrap_or_default();
        if places.is_empty() {
            out.push(base);
            continue;
        }
        for sal in places {
            let loc = locations.get(&sal.location_id);
            let address = addresses
                .get(&sal.location_id)
                .map(|a| format!("{}, {} {}", a.address_1, a.postal_code, a.city));
            out.push(Place {
                key: sal.id.clone(),
                location: loc.and_then(|l| l.name.clone()),
                address,
                zone: loc.and_then(|l| l.zone.clone()),
                coords: loc.and_then(|l| Some((l.latitude?, l.longitude?))),
                ..base.clone()
            });
        }
    }
    Ok(out)
}

fn risk_label(r: SocialRisk, lang: Lang) -> &'static str {
    match lang {
        Lang::It => r.label_it(),
        Lang::En => r.label_en(),
    }
}

fn group_label(g: TargetGroup, lang: Lang) -> &'static str {
    match lang {
        Lang::It => g.label_it(),
        Lang::En => g.label_en(),
    }
}

/// The services page.
pub(super) fn page(ctx: &Ctx, lang: Lang) -> Result<String, ReportError> {
    let w = words::get(lang);
    let page = Page::Services;
    let mut b = format!("<h1>{}</h1>\n", w.services_title);
    let Some(places) = &ctx.site.services else {
        b.push_str(&format!("<p class=\"lead\">{}</p>\n", w.no_registry));
        return Ok(frame(ctx, lang, &page, w.services_title, &crumbs(w), &b));
    };
    let zone_name = |code: &str| {
        ctx.territory(code)
            .map(|t| t.name.clone())
            .or_else(|| {
                ctx.site
                    .hierarchy
                    .nodes
                    .iter()
                    .find(|t| t.code == code)
                    .map(|t| t.name.clone())
            })
            .unwrap_or_else(|| code.to_string())
    };
    let mapped = places.iter().filter(|p| p.coords.is_some()).count();
    b.push_str(&format!(
        "<p class=\"lead\">{}</p>\n",
        w.services_intro
            .replace("{n}", &html::count(places.len(), lang))
            .replace("{m}", &html::count(mapped, lang))
    ));

    // zones in the hierarchy's order, then codes it does not know, then no zone
    let order: BTreeMap<&str, usize> = ctx
        .site
        .hierarchy
        .nodes
        .iter()
        .enumerate()
        .map(|(i, t)| (t.code.as_str(), i))
        .collect();
    let mut zones: Vec<Option<&str>> = places.iter().map(|p| p.zone.as_deref()).collect();
    zones.sort_by_key(|z| match z {
        Some(z) => (
            0,
            order.get(z).copied().unwrap_or(usize::MAX),
            z.to_string(),
        ),
        None => (1, 0, String::new()),
    });
    zones.dedup();

    // the filter, shown by the script only
    b.push_str(&format!(
        "<form id=\"filter\" class=\"filter\" hidden role=\"search\" aria-label=\"{}\">\n",
        w.filter
    ));
    b.push_str(&format!(
        "<label>{}<select name=\"risk\"><option value=\"\">{}</option>",
        w.risk, w.any
    ));
    for r in SocialRisk::ALL {
        if places.iter().any(|p| p.risks.contains(r)) {
            b.push_str(&format!(
                "<option value=\"{}\">{}</option>",
                r.code(),
                esc(risk_label(*r, lang))
            ));
        }
    }
    b.push_str(&format!(
        "</select></label>\n<label>{}<select name=\"group\"><option value=\"\">{}</option>",
        w.target_group, w.any
    ));
    for g in TargetGroup::ALL.iter().filter(|g| **g != TargetGroup::All) {
        if places.iter().any(|p| p.groups.contains(g)) {
            b.push_str(&format!(
                "<option value=\"{}\">{}</option>",
                g.code(),
                esc(group_label(*g, lang))
            ));
        }
    }
    b.push_str(&format!(
        "</select></label>\n<label>{}<select name=\"zone\"><option value=\"\">{}</option>",
        w.zone, w.any
    ));
    for z in zones.iter().flatten() {
        b.push_str(&format!(
            "<option value=\"{}\">{}</option>",
            esc(z),
            esc(&zone_name(z))
        ));
    }
    b.push_str(&format!(
        "</select></label>\n<label>{}<input type=\"search\" name=\"q\" autocomplete=\"off\"></label>\n<button type=\"reset\">{}</button>\n<p id=\"count\" role=\"status\" aria-live=\"polite\"></p>\n</form>\n",
        w.search, w.reset
    ));

    // the map
    if let Some((_, file, geojson)) = ctx
        .site
        .boundaries
        .iter()
        .find(|(l, _, _)| *l == ctx.site.hierarchy.finest())
        .or_else(|| ctx.site.boundaries.last())
    {
        // in the taxonomy's order, so that the legend lists risks as the list does
        let rank = |p: &Place| {
            p.risks
                .first()
                .and_then(|r| SocialRisk::ALL.iter().position(|x| x == r))
                .unwrap_or(usize::MAX)
        };
        let mut ordered: Vec<&Place> = places.iter().collect();
        ordered.sort_by_key(|p| rank(p));
        let points: Vec<MapPoint> = ordered
            .into_iter()
            .filter_map(|p| {
                let (lat, lon) = p.coords?;
                Some(MapPoint {
                    key: p.key.clone(),
                    label: match &p.address {
                        Some(a) => format!("{} ({}), {a}", p.service, p.organization),
                        None => format!("{} ({})", p.service, p.organization),
                    },
                    group: p.risks.first().map_or(w.other_risk.to_string(), |r| {
                        risk_label(*r, lang).to_string()
                    }),
                    lon,
                    lat,
                })
            })
            .collect();
        let chart = chart::point_map(
            geojson,
            &points,
            &ChartOptions {
                id: "services-map".into(),
                title: w.services_title.into(),
                subtitle: w.map_subtitle.into(),
                description: w
                    .services_map_desc
                    .replace("{m}", &points.len().to_string()),
                locale: lang.locale(),
                width: 900.0,
                height: 620.0,
                ..ChartOptions::default()
            },
        )
        .map_err(|e| ReportError::Input(format!("{file}: {e}")))?;
        b.push_str(&format!(
            "<figure class=\"chart map\" id=\"map\">{}<figcaption>{}</figcaption></figure>\n",
            chart.svg, w.services_map_caption
        ));
    }

    // the list
    b.push_str(&format!(
        "<section id=\"list\" aria-labelledby=\"h-list\"><h2 id=\"h-list\">{}</h2>\n",
        w.services_by_zone
    ));
    for (zi, zone) in zones.iter().enumerate() {
        let here: Vec<&Place> = places
            .iter()
            .filter(|p| p.zone.as_deref() == *zone)
            .collect();
        let title = match zone {
            Some(z) => zone_name(z),
            None => w.no_zone.to_string(),
        };
        b.push_str(&format!(
            "<section class=\"zone\" aria-labelledby=\"z{zi}\"><h3 id=\"z{zi}\">{} <span class=\"count\">({})</span></h3>\n",
            esc(&title),
            w.services_count.replace("{n}", &html::count(here.len(), lang))
        ));
        // each service once, under the first risk it addresses (the map's colour)
        let mut risks: Vec<Option<SocialRisk>> =
            SocialRisk::ALL.iter().copied().map(Some).collect();
        risks.push(None);
        for risk in risks {
            let list: Vec<&&Place> = here
                .iter()
                .filter(|p| p.risks.first().copied() == risk)
                .collect();
            if list.is_empty() {
                continue;
            }
            b.push_str(&format!(
                "<div class=\"risk\"><h4>{}</h4>\n<ul class=\"services\">\n",
                esc(risk.map_or(w.other_risk, |r| risk_label(r, lang)))
            ));
            for p in list {
                b.push_str(&item(p, lang, w));
            }
            b.push_str("</ul></div>\n");
        }
        b.push_str("</section>\n");
    }
    b.push_str("</section>\n");
    b.push_str(&format!(
        "<script>\n{}</script>\n",
        FILTER_JS
            .replace("{services}", w.services_word)
            .replace("{of}", w.of)
    ));
    Ok(frame(ctx, lang, &page, w.services_title, &crumbs(w), &b))
}

fn crumbs(w: &Words) -> Vec<Crumb> {
    vec![Crumb {
        label: w.services_title.into(),
        page: None,
    }]
}

/// One service in the list, with what the filter reads in `data-` attributes.
fn item(p: &Place, lang: Lang, w: &Words) -> String {
    let mut facts: Vec<String> = Vec::new();
    match (&p.location, &p.address) {
        (Some(l), Some(a)) if l != &p.service => facts.push(format!("{}, {}", esc(l), esc(a))),
        (_, Some(a)) => facts.push(esc(a)),
        (Some(l), None) => facts.push(esc(l)),
        (None, None) => {}
    }
    if p.risks.len() > 1 {
        let also: Vec<&str> = p.risks[1..].iter().map(|r| risk_label(*r, lang)).collect();
        facts.push(format!("{}: {}", w.also_risks, esc(&also.join(", "))));
    }
    let groups: Vec<&str> = p.groups.iter().map(|g| group_label(*g, lang)).collect();
    if !groups.is_empty() {
        facts.push(format!("{}: {}", w.for_whom, esc(&groups.join(", "))));
    }
    match (p.min_age, p.max_age) {
        (Some(a), Some(b)) => facts.push(
            w.ages
                .replace("{a}", &a.to_string())
                .replace("{b}", &b.to_string()),
        ),
        (Some(a), None) => facts.push(w.age_from.replace("{a}", &a.to_string())),
        (None, Some(b)) => facts.push(w.age_to.replace("{b}", &b.to_string())),
        (None, None) => {}
    }
    match p.free {
        Some(true) => facts.push(w.free.into()),
        Some(false) => facts.push(w.paying.into()),
        None => {}
    }
    if p.temporarily_closed {
        facts.push(format!("<strong>{}</strong>", w.temporarily_closed));
    }
    format!(
        "<li data-key=\"{}\" data-risks=\"{}\" data-groups=\"{}\" data-zone=\"{}\"><strong>{}</strong> — {}<br><span class=\"facts\">{}</span>{}</li>\n",
        esc(&p.key),
        p.risks
            .iter()
            .map(|r| r.code())
            .collect::<Vec<_>>()
            .join(" "),
        p.groups
            .iter()
            .map(|g| g.code())
            .collect::<Vec<_>>()
            .join(" "),
        esc(p.zone.as_deref().unwrap_or("")),
        esc(&p.service),
        esc(&p.organization),
        facts.join(" · "),
        match &p.description {
            Some(d) => format!("<br><span class=\"desc\">{}</span>", esc(d)),
            None => String::new(),
        }
    )
}

/// The filter: shows the form, hides the list items (and the map's points) that do not match;
/// everything is visible without it.
const FILTER_JS: &str = r#"(function () {
  var form = document.getElementById('filter');
  if (!form || !document.querySelectorAll || !''.normalize) return;
  var fold = function (s) { return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase(); };
  var items = Array.prototype.slice.call(document.querySelectorAll('#list li[data-key]'));
  var texts = items.map(function (li) { return fold(li.textContent); });
  var points = Array.prototype.slice.call(document.querySelectorAll('#map [data-key]'));
  var boxes = Array.prototype.slice.call(document.querySelectorAll('#list .risk, #list .zone'));
  var count = document.getElementById('count');
  var total = {};
  items.forEach(function (li) { total[li.getAttribute('data-key')] = 1; });
  var all = Object.keys(total).length;
  var has = function (list, v) { return (' ' + list + ' ').indexOf(' ' + v + ' ') >= 0; };
  function run() {
    var risk = form.risk.value, group = form.group.value, zone = form.zone.value;
    var words = fold(form.q.value).split(/\s+/).filter(Boolean);
    var shown = {};
    items.forEach(function (li, i) {
      var ok = (!risk || has(li.getAttribute('data-risks'), risk)) &&
        (!group || has(li.getAttribute('data-groups'), group) || has(li.getAttribute('data-groups'), 'all')) &&
        (!zone || li.getAttribute('data-zone') === zone) &&
        words.every(function (w) { return texts[i].indexOf(w) >= 0; });
      li.hidden = !ok;
      if (ok) shown[li.getAttribute('data-key')] = 1;
    });
    boxes.forEach(function (b) { b.hidden = !b.querySelector('li[data-key]:not([hidden])'); });
    points.forEach(function (p) { p.style.display = shown[p.getAttribute('data-key')] ? '' : 'none'; });
    count.textContent = Object.keys(shown).length + ' {of} ' + all + ' {services}';
  }
  form.hidden = false;
  form.addEventListener('input', run);
  form.addEventListener('change', run);
  form.addEventListener('reset', function () { setTimeout(run, 0); });
  form.addEventListener('submit', function (e) { e.preventDefault(); run(); });
  run();
})();
"#;
