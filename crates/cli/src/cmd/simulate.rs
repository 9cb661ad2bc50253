//! `datalab simulate`: microsimulation of benefit rules (`simulations/`) on the household
//! microdata. The comparison of a scenario with its baseline goes through the disclosure gate
//! before it is printed (suppressed cells are `null` in JSON, empty in CSV, `x` in text, each
//! with the rules that hid it); the trace of one household and the non-take-up list are
//! lab-side, and both are recorded in the audit trail.

use super::UsageError;
use crate::Format;
use disclosure::release::adhoc::ShownTable;
use forecast::microsim::gate::{Gated, protect};
use forecast::microsim::results::{Summary, deciles, non_take_up, summarize};
use forecast::microsim::simulate::{evaluate, fmt_num};
use forecast::microsim::{MicrosimError, RuleSet, data, run_scenario};
use pseudo::reidentify::OutreachList;
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub project: crate::ProjectArg,
    /// The scenario (`simulations/scenarios/NAME.toml`); a reform is compared with its
    /// baseline, a baseline with itself.
    #[arg(required_unless_present = "variables")]
    pub scenario: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Lab-side only: explain this household's result (its pseudonym) step by step, under the
    /// baseline and the scenario, instead of the results. Audited.
    #[arg(long, value_name = "HOUSEHOLD")]
    pub trace: Option<String>,
    /// Write the households eligible under the scenario for a benefit the data say they do not
    /// receive, as an outreach list of pseudonyms for the custodian (`datalab reidentify`).
    #[arg(long, value_name = "OUT", requires_all = ["purpose", "requested_by"])]
    pub non_take_up: Option<PathBuf>,
    /// Why the non-take-up households are to be contacted (with --non-take-up).
    #[arg(long)]
    pub purpose: Option<String>,
    /// Who asks for the non-take-up list (with --non-take-up).
    #[arg(long)]
    pub requested_by: Option<String>,
    /// List the household variables rules may read, and exit.
    #[arg(long)]
    pub variables: bool,
}

fn input(e: MicrosimError) -> anyhow::Error {
    if e.is_input() {
        UsageError(e.to_string()).into()
    } else {
        e.into()
    }
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    if args.variables {
        for (name, doc) in data::VARIABLES {
            out!("{name:<20} {doc}");
        }
        return Ok(());
    }
    let name = args.scenario.clone().unwrap_or_default();
    if let Some(p) = &args.purpose
        && p.chars().filter(|c| c.is_alphanumeric()).count() < 10
    {
        anyhow::bail!(UsageError(
            "--purpose must say why these households are contacted (a few words at least)".into()
        ));
    }
    let project = super::load_project(&args.project.project)?;
    let names = data::variable_names();
    let set = RuleSet::load(&project.root, &names).map_err(input)?;
    let scenario = set.scenario(&name).map_err(input)?.clone();
    let baseline = match &scenario.baseline {
        Some(b) => set.scenario(b).map_err(input)?.clone(),
        None => scenario.clone(),
    };
    let households = data::households(&project.data_dir(), scenario.date.year).map_err(input)?;

    if let Some(id) = &args.trace {
        let h = households.iter().find(|h| &h.id == id).ok_or_else(|| {
            UsageError(format!(
                "household `{id}` is not among the {} households simulated in {} (households with an ISEE declaration that year)",
                households.len(),
                scenario.date.year
            ))
        })?;
        let (_, tb) = evaluate(&set, &baseline, h, true).map_err(input)?;
        let (_, ts) = evaluate(&set, &scenario, h, true).map_err(input)?;
        crate::audit::record_in(
            &project,
            &crate::env::user(None),
            server::audit::Action::Query,
            &format!("simulate {} --trace", scenario.name),
            json!({"simulation_trace": id, "scenario": scenario.name, "baseline": baseline.name}),
        )?;
        if !quiet {
            eprintln!(
                "lab-side only: this trace shows one household's microdata; it has not passed the disclosure gate and must not leave the lab (recorded in the audit trail)"
            );
        }
        let traces = [tb, ts];
        match args.format {
            Format::Json => out!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "lab_side_only": true,
                    "baseline": traces[0],
                    "scenario": traces[1],
                }))?
            ),
            _ => {
                for t in traces.iter().flatten() {
                    out!("{}", t.to_text());
                }
            }
        }
        return Ok(());
    }

    let bar = crate::progress::bytes_bar(quiet, "simulating", 2 * households.len() as u64);
    let tick = || bar.inc(1);
    let base_out = run_scenario(&set, &baseline, &households, &tick).map_err(input)?;
    let scen_out = run_scenario(&set, &scenario, &households, &tick).map_err(input)?;
    bar.finish_and_clear();
    let base_sum = summarize(&households, &base_out);
    let scen_sum = summarize(&households, &scen_out);
    let dec = deciles(&households);
    let policy = project::release::Policy::resolve(&project.config.disclosure, &Default::default());
    let gated = protect(
        &households,
        &dec,
        (&base_out, &base_sum),
        (&scen_out, &scen_sum),
        &policy,
    )?;

    if let Some(out) = &args.non_take_up {
        let pseudonyms = non_take_up(&set, &households, &scen_out);
        let list = OutreachList {
            purpose: args.purpose.clone().unwrap_or_default(),
            requested_by: args.requested_by.clone().unwrap_or_default(),
            lab: project.config.name.clone(),
            created_at: engine::now(),
            pseudonyms,
        };
        write_atomic(out, list.to_text().as_bytes())?;
        crate::audit::record_in(
            &project,
            &crate::env::user(None),
            server::audit::Action::ReidentificationRequest,
            &out.display().to_string(),
            json!({
                "purpose": list.purpose,
                "requested_by": list.requested_by,
                "pseudonyms": list.pseudonyms.len(),
                "simulation": scenario.name,
                "non_take_up": true,
            }),
        )?;
        if !quiet {
            eprintln!(
                "{} households eligible but not receiving written to {}: send the file to the custodian, who alone can re-identify them",
                list.pseudonyms.len(),
                out.display()
            );
        }
    }

    let report = report_json(&scenario, &baseline, &base_sum, &scen_sum, &gated, &policy);
    let suppressed = report["suppressed"].as_array().map_or(0, Vec::len);
    crate::audit::record_in(
        &project,
        &crate::env::user(None),
        server::audit::Action::Export,
        &format!("simulate {}", scenario.name),
        json!({"scenario": scenario.name, "baseline": baseline.name, "suppressed_cells": suppressed}),
    )?;
    match args.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&report)?),
        Format::Csv => print_csv(&gated)?,
        Format::Text => print_text(&report),
    }
    Ok(())
}

fn write_atomic(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "non-take-up".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)
        .map_err(|e| anyhow::anyhow!("{}: {}", tmp.display(), e.to_string().to_lowercase()))?;
    std::fs::rename(&tmp, out)
        .map_err(|e| anyhow::anyhow!("{}: {}", out.display(), e.to_string().to_lowercase()))?;
    Ok(())
}

fn table<'a>(g: &'a Gated, name: &str) -> &'a ShownTable {
    g.tables[name].get()
}

fn cell(g: &Gated, name: &str, codes: &[&str]) -> Option<f64> {
    table(g, name).cell(codes).and_then(|c| c.value)
}

fn stat(g: &Gated, name: &str) -> Option<f64> {
    g.statistics[name].get().value
}

fn side(which: &str, s: &forecast::microsim::Scenario, summary: &Summary, g: &Gated) -> Json {
    json!({
        "name": s.name,
        "title": s.title,
        "date": s.date.to_string(),
        "rules": s.rules,
        "households": summary.households,
        "cost": cell(g, &format!("cost_by_zone_{which}"), &["Total"]),
        "beneficiaries": {
            "households": cell(g, &format!("beneficiaries_by_zone_{which}"), &["Total"]),
            "persons": cell(g, &format!("beneficiary_persons_by_zone_{which}"), &["Total"]),
        },
        "poverty_rate": stat(g, &format!("poverty_rate_{which}")),
        "poverty_line": stat(g, &format!("poverty_line_{which}")),
        "gini": stat(g, &format!("gini_{which}")),
    })
}

fn mean(total: Option<f64>, n: Option<f64>) -> Option<f64> {
    match (total, n) {
        (Some(t), Some(n)) if n > 0.0 => Some(t / n),
        _ => None,
    }
}

fn groups(g: &Gated, by: &str) -> Vec<Json> {
    let t = table(g, &format!("outcome_by_{by}"));
    let mut codes: Vec<String> = Vec::new();
    for c in &t.cells {
        if c.codes[0] != "Total" && !codes.contains(&c.codes[0]) {
            codes.push(c.codes[0].clone());
        }
    }
    codes
        .iter()
        .map(|code| {
            let n = |o: &str| cell(g, &format!("outcome_by_{by}"), &[code, o]);
            let gains = cell(g, &format!("gains_by_{by}"), &[code]);
            let losses = cell(g, &format!("losses_by_{by}"), &[code]);
            json!({
                by: code,
                "households": n("Total"),
                "winners": n("winners"),
                "losers": n("losers"),
                "unchanged": n("unchanged"),
                "gains": gains,
                "losses": losses,
                "mean_gain": mean(gains, n("winners")),
                "mean_loss": mean(losses, n("losers")),
            })
        })
        .collect()
}

fn report_json(
    scenario: &forecast::microsim::Scenario,
    baseline: &forecast::microsim::Scenario,
    bs: &Summary,
    ss: &Summary,
    g: &Gated,
    policy: &project::release::Policy,
) -> Json {
    let mut suppressed = Vec::new();
    for (name, t) in &g.tables {
        let t = t.get();
        for c in t.cells.iter().filter(|c| c.value.is_none()) {
            let codes: serde_json::Map<String, Json> = t
                .dims
                .iter()
                .zip(&c.codes)
                .map(|(d, c)| (d.clone(), Json::String(c.clone())))
                .collect();
            suppressed
                .push(json!({"table": name, "cell": codes, "flag": c.flag, "rules": c.rules}));
        }
    }
    for (name, s) in &g.statistics {
        let s = s.get();
        if s.value.is_none() {
            suppressed.push(
                json!({"statistic": name, "flag": s.flag, "rules": [s.rule], "units": s.units}),
            );
        }
    }
    let b = side("baseline", baseline, bs, g);
    let s = side("scenario", scenario, ss, g);
    let difference = match (b["cost"].as_f64(), s["cost"].as_f64()) {
        (Some(x), Some(y)) => json!(y - x),
        _ => Json::Null,
    };
    json!({
        "scenario": s,
        "baseline": b,
        "cost_difference": difference,
        "by_decile": groups(g, "decile"),
        "by_zone": groups(g, "zone"),
        "suppressed": suppressed,
        "disclosure": {
            "threshold": policy.threshold,
            "dominance": {"n": policy.dominance.n, "k": policy.dominance.k},
            "p": policy.p,
            "min_sample": policy.min_sample,
            "method": "suppress",
        },
        "notes": [
            "households: those with an ISEE declaration in the scenario's year; income before transfers is the ISEE's ISR",
            "deciles: persons-weighted deciles of equivalised income before the simulated benefits (ISR / OECD-modified scale)",
            "poverty: persons below 60% of the persons-weighted median equivalised income after the simulated benefits, each scenario with its own line",
            "amounts in euro a year; a null value was hidden by the disclosure gate (see suppressed)",
        ],
    })
}

fn print_csv(g: &Gated) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    w.write_record(["table", "codes", "value", "flag", "rules"])?;
    for (name, t) in &g.tables {
        let t = t.get();
        for c in &t.cells {
            let codes: Vec<String> = t
                .dims
                .iter()
                .zip(&c.codes)
                .map(|(d, c)| format!("{d}={c}"))
                .collect();
            w.write_record([
                name.as_str(),
                &codes.join(";"),
                &c.value.map(fmt_num).unwrap_or_default(),
                c.flag.as_deref().unwrap_or(""),
                &c.rules.join("+"),
            ])?;
        }
    }
    for (name, s) in &g.statistics {
        let s = s.get();
        w.write_record([
            name.as_str(),
            "",
            &s.value.map(|v| v.to_string()).unwrap_or_default(),
            s.flag.as_deref().unwrap_or(""),
            s.rule.as_deref().unwrap_or(""),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn print_text(r: &Json) {
    let v = |x: &Json| match x.as_f64() {
        Some(f) => crate::fmt::int(f.round() as u64),
        None if x.is_null() => "x".into(),
        None => x.to_string(),
    };
    let pct = |x: &Json| {
        x.as_f64()
            .map_or("x".into(), |f| format!("{:.2}%", f * 100.0))
    };
    let g = |x: &Json| x.as_f64().map_or("x".into(), |f| format!("{f:.4}"));
    let (b, s) = (&r["baseline"], &r["scenario"]);
    out!(
        "{:<28} {:>18} {:>18}",
        "",
        b["name"].as_str().unwrap_or(""),
        s["name"].as_str().unwrap_or("")
    );
    out!(
        "{:<28} {:>18} {:>18}",
        "cost (euro a year)",
        v(&b["cost"]),
        v(&s["cost"])
    );
    out!(
        "{:<28} {:>18} {:>18}",
        "beneficiary households",
        v(&b["beneficiaries"]["households"]),
        v(&s["beneficiaries"]["households"])
    );
    out!(
        "{:<28} {:>18} {:>18}",
        "beneficiary persons",
        v(&b["beneficiaries"]["persons"]),
        v(&s["beneficiaries"]["persons"])
    );
    out!(
        "{:<28} {:>18} {:>18}",
        "poverty rate",
        pct(&b["poverty_rate"]),
        pct(&s["poverty_rate"])
    );
    out!("{:<28} {:>18} {:>18}", "Gini", g(&b["gini"]), g(&s["gini"]));
    for by in ["decile", "zone"] {
        out!("");
        out!(
            "{:<8} {:>8} {:>8} {:>10} {:>12} {:>12}",
            by,
            "winners",
            "losers",
            "unchanged",
            "mean gain",
            "mean loss"
        );
        // A mean over nobody is undefined (`-`), not hidden (`x`).
        let mean = |m: &Json, count: &Json| {
            if count.as_f64() == Some(0.0) {
                "-".into()
            } else {
                v(m)
            }
        };
        for row in r[format!("by_{by}")].as_array().into_iter().flatten() {
            out!(
                "{:<8} {:>8} {:>8} {:>10} {:>12} {:>12}",
                row[by].as_str().unwrap_or(""),
                v(&row["winners"]),
                v(&row["losers"]),
                v(&row["unchanged"]),
                mean(&row["mean_gain"], &row["winners"]),
                mean(&row["mean_loss"], &row["losers"])
            );
        }
    }
    out!("");
    out!("-: no winners (or losers) to average");
    let n = r["suppressed"].as_array().map_or(0, Vec::len);
    if n > 0 {
        out!(
            "x: hidden by the disclosure gate ({n} cells; `--format json` names the rule of each)"
        );
    }
}
