//! Aggregated health-survey prevalences in the style of the PASSI surveillance: no microdata,
//! only prevalences by breakdown with sample sizes and 95% confidence intervals, pooled over
//! four-year windows. The true prevalences come from a person-level model applied to the
//! simulated residents aged 18-69; the published ones are binomial draws around them.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

use super::{Ctx, YearView};
use crate::SynthError;
use crate::dirty::{Kind, Truth};
use crate::out::{Line, Manifest, Sink};
use crate::places::ITALY;
use crate::population::{Person, Status, World, age_on};

pub const FILE: &str = "custodian/ausl/passi_prevalenze.csv";
pub const TRUTH_FILE: &str = "truth/health_prevalences.csv";
pub const HEADER: &str =
    "INDICATORE;AREA;PERIODO;ANNO_FINE;VARIABILE;MODALITA;N;PREVALENZA;IC95_INF;IC95_SUP\n";
pub const INDICATORS: [&str; 5] = [
    "cattiva salute percepita",
    "sintomi depressivi",
    "fumo",
    "sedentarietà",
    "obesità",
];
pub const AREAS: [&str; 2] = ["Provincia di Modena", "Comune di Modena"];
pub const VARIABLES: [&str; 5] = [
    "totale",
    "classe di età",
    "sesso",
    "istruzione",
    "difficoltà economiche",
];
/// Breakdown groups: (variable, value).
pub const GROUPS: [(usize, &str); 13] = [
    (0, "totale"),
    (1, "18-34"),
    (1, "35-49"),
    (1, "50-69"),
    (2, "uomini"),
    (2, "donne"),
    (3, "nessuna/elementare"),
    (3, "media inferiore"),
    (3, "media superiore"),
    (3, "laurea"),
    (4, "nessuna"),
    (4, "qualche"),
    (4, "molte"),
];

struct Coef {
    base: f64,
    age: [f64; 3],
    female: f64,
    edu: [f64; 4],
    econ: [f64; 3],
    foreign: f64,
    poverty: f64,
}

const COEFS: [Coef; 5] = [
    Coef {
        base: 0.022,
        age: [0.0, 0.6, 1.3],
        female: 0.2,
        edu: [1.0, 0.6, 0.3, 0.0],
        econ: [0.0, 0.7, 1.5],
        foreign: 0.0,
        poverty: 0.2,
    },
    Coef {
        base: 0.025,
        age: [0.0, 0.1, 0.2],
        female: 0.5,
        edu: [0.5, 0.3, 0.1, 0.0],
        econ: [0.0, 0.8, 1.6],
        foreign: 0.1,
        poverty: 0.15,
    },
    Coef {
        base: 0.24,
        age: [0.0, -0.1, -0.4],
        female: -0.35,
        edu: [0.3, 0.4, 0.2, 0.0],
        econ: [0.0, 0.3, 0.6],
        foreign: -0.1,
        poverty: 0.1,
    },
    Coef {
        base: 0.10,
        age: [0.0, 0.2, 0.45],
        female: 0.15,
        edu: [0.9, 0.6, 0.3, 0.0],
        econ: [0.0, 0.3, 0.6],
        foreign: 0.3,
        poverty: 0.15,
    },
    Coef {
        base: 0.04,
        age: [0.0, 0.6, 1.0],
        female: -0.1,
        edu: [1.0, 0.7, 0.3, 0.0],
        econ: [0.0, 0.2, 0.5],
        foreign: 0.0,
        poverty: 0.2,
    },
];

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Economic difficulty band from equivalised income: 0 none, 1 some, 2 many.
pub fn econ_band(eq_income: f64) -> usize {
    if eq_income < 7_000.0 {
        2
    } else if eq_income < 14_000.0 {
        1
    } else {
        0
    }
}

/// The person's probability of each indicator.
fn probabilities(p: &Person, age: i32, econ: usize, poverty: f64) -> [f64; 5] {
    let band = if age < 35 {
        0
    } else if age < 50 {
        1
    } else {
        2
    };
    let mut out = [0.0; 5];
    for (k, c) in COEFS.iter().enumerate() {
        let x = logit(c.base)
            + c.age[band]
            + if p.female { c.female } else { 0.0 }
            + c.edu[p.education as usize]
            + c.econ[econ]
            + if p.citizenship as usize != ITALY {
                c.foreign
            } else {
                0.0
            }
            + c.poverty * poverty;
        out[k] = logistic(x);
    }
    out
}

struct YearAgg {
    year: i32,
    sums: [[f64; 13]; 5],
    counts: [u64; 13],
}

pub struct Health {
    years: Vec<YearAgg>,
}

impl Health {
    pub fn new(_ctx: &Ctx) -> Health {
        Health { years: Vec::new() }
    }

    /// Accumulates the year's true prevalences; returns them per zone (residents 18-69).
    pub fn year(&mut self, world: &World, view: &YearView) -> Vec<[f64; 5]> {
        let nz = world.territory.zones.len();
        let mut zone_sum = vec![[0.0f64; 5]; nz];
        let mut zone_n = vec![0u64; nz];
        let mut agg = YearAgg {
            year: view.year,
            sums: [[0.0; 13]; 5],
            counts: [0; 13],
        };
        for p in &world.persons {
            if p.status != Status::Resident {
                continue;
            }
            let age = age_on(p.birth, view.end);
            if !(18..=69).contains(&age) {
                continue;
            }
            let hh = &world.households[p.household as usize];
            let zone = hh.zone as usize;
            let econ = econ_band(hh.eq_income);
            let probs = probabilities(p, age, econ, world.territory.zones[zone].poverty);
            let groups = [
                0,
                1 + if age < 35 {
                    0
                } else if age < 50 {
                    1
                } else {
                    2
                },
                4 + p.female as usize,
                6 + p.education as usize,
                10 + econ,
            ];
            for &g in &groups {
                agg.counts[g] += 1;
                for (sums, prob) in agg.sums.iter_mut().zip(probs) {
                    sums[g] += prob;
                }
            }
            zone_n[zone] += 1;
            for (sum, prob) in zone_sum[zone].iter_mut().zip(probs) {
                *sum += prob;
            }
        }
        self.years.push(agg);
        zone_sum
            .iter()
            .zip(&zone_n)
            .map(|(s, &n)| {
                if n == 0 {
                    [0.0; 5]
                } else {
                    s.map(|x| x / n as f64)
                }
            })
            .collect()
    }

    pub fn write(
        self,
        ctx: &Ctx,
        truth: &mut Truth,
        manifest: &mut Manifest,
    ) -> Result<(), SynthError> {
        let mut rng: ChaCha8Rng = crate::rng::stream(ctx.seed, "health survey");
        let mut sink = Sink::create(ctx.root, FILE)?;
        sink.header(HEADER.as_bytes())?;
        let mut tsink = Sink::create(ctx.root, TRUTH_FILE)?;
        tsink.header(b"indicator,area,period,variable,value,n,true_prevalence_pct\n")?;
        let windows: Vec<(i32, i32)> = if ctx.last - ctx.first + 1 >= 4 {
            (ctx.first + 3..=ctx.last).map(|e| (e - 3, e)).collect()
        } else {
            vec![(ctx.first, ctx.last)]
        };
        let rows_total = windows.len() * AREAS.len() * INDICATORS.len() * GROUPS.len();
        // One out-of-range prevalence and one repeated row, if the table is big enough.
        let (bad, dup) = if rows_total >= 200 {
            (
                rng.random_range(0..rows_total),
                rng.random_range(0..rows_total),
            )
        } else {
            (usize::MAX, usize::MAX)
        };
        let mut line = Line::new(b';');
        let mut tline = Line::new(b',');
        let mut k = 0usize;
        for (ind, name) in INDICATORS.iter().enumerate() {
            for (area_idx, area) in AREAS.iter().enumerate() {
                for &(from, to) in &windows {
                    let period = format!("{from}-{to}");
                    let span = (to - from + 1) as f64;
                    let in_window: Vec<&YearAgg> = self
                        .years
                        .iter()
                        .filter(|y| y.year >= from && y.year <= to)
                        .collect();
                    let total_count: u64 = in_window.iter().map(|y| y.counts[0]).sum();
                    let sample = if area_idx == 0 { 1_000.0 } else { 275.0 } * span;
                    for (g, &(var, value)) in GROUPS.iter().enumerate() {
                        let count: u64 = in_window.iter().map(|y| y.counts[g]).sum();
                        let sum: f64 = in_window.iter().map(|y| y.sums[ind][g]).sum();
                        let mut p_true = if count == 0 { 0.0 } else { sum / count as f64 };
                        if area_idx == 0 {
                            p_true = logistic(logit(p_true.clamp(1e-6, 1.0 - 1e-6)) - 0.08);
                        }
                        let n = if total_count == 0 {
                            0
                        } else {
                            (sample * count as f64 / total_count as f64).round() as u64
                        };
                        let hits = if n == 0 {
                            0
                        } else {
                            Binomial::new(n, p_true.clamp(0.0, 1.0))
                                .expect("valid binomial")
                                .sample(&mut rng)
                        };
                        let l = &mut line;
                        l.clear();
                        l.text(name)
                            .text(area)
                            .text(&period)
                            .int(to as u64)
                            .text(VARIABLES[var])
                            .text(value)
                            .int(n);
                        let mut defect = None;
                        if n < 50 {
                            l.text("NA").text("NA").text("NA");
                        } else {
                            let ph = hits as f64 / n as f64;
                            let (lo, hi) = wilson(ph, n as f64);
                            let mut shown = pct(ph);
                            if k == bad {
                                shown = pct(ph + 2.0 + rng.random::<f64>());
                                defect = Some(Kind::OutOfRange);
                            }
                            l.text(&shown).text(&pct(lo)).text(&pct(hi));
                        }
                        let bytes = l.end().to_vec();
                        let line_no = sink.next_line();
                        sink.row(&bytes)?;
                        if defect.is_some() {
                            truth.defect(
                                "health_survey",
                                FILE,
                                line_no,
                                "prevalence",
                                Kind::OutOfRange,
                            )?;
                        }
                        if k == dup && defect.is_none() {
                            let again = sink.next_line();
                            sink.row(&bytes)?;
                            truth.defect(
                                "health_survey",
                                FILE,
                                again,
                                "indicator",
                                Kind::DuplicateRow,
                            )?;
                        }
                        let t = &mut tline;
                        t.clear();
                        t.text(name)
                            .text(area)
                            .text(&period)
                            .text(VARIABLES[var])
                            .text(value)
                            .int(n);
                        t.text(&format!("{:.3}", p_true * 100.0));
                        let tb = t.end().to_vec();
                        tsink.row(&tb)?;
                        k += 1;
                    }
                }
            }
        }
        sink.finish(manifest)?;
        tsink.finish(manifest)
    }
}

/// Wilson score interval at 95%.
fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_985;
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let d = 1.0 + z2 / n;
    (
        ((centre - half) / d).max(0.0),
        ((centre + half) / d).min(1.0),
    )
}

/// A proportion as a percentage with one decimal and a decimal comma.
fn pct(p: f64) -> String {
    format!("{:.1}", p * 100.0).replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval() {
        let (lo, hi) = wilson(0.2, 400.0);
        assert!(
            (lo - 0.1637).abs() < 1e-3 && (hi - 0.2420).abs() < 1e-3,
            "{lo} {hi}"
        );
        assert_eq!(pct(0.1234), "12,3");
    }
}
