//! Workplace accidents reported to INAIL, aggregated by year and ATECO section for the
//! municipality: reported, recognised and fatal cases. Counts scale with the city.

use rand::Rng;
use rand_distr::{Binomial, Distribution, Poisson};

use super::Ctx;
use crate::SynthError;
use crate::dirty::{Kind, Truth};
use crate::out::{Line, Manifest, Sink};

pub const FILE: &str = "custodian/inail/infortuni.csv";
pub const HEADER: &str =
    "ANNO;TERRITORIO;SEZIONE_ATECO;DESCRIZIONE_SETTORE;DENUNCE;RICONOSCIUTE;MORTALI\n";

/// ATECO 2007 sections with yearly reported accidents at scale 1 and fatal ones per year.
pub const SECTIONS: [(&str, &str, f64, f64); 20] = [
    ("A", "Agricoltura, silvicoltura e pesca", 40.0, 0.3),
    ("B", "Estrazione di minerali da cave e miniere", 3.0, 0.02),
    ("C", "Attività manifatturiere", 620.0, 0.6),
    (
        "D",
        "Fornitura di energia elettrica, gas, vapore e aria condizionata",
        8.0,
        0.02,
    ),
    (
        "E",
        "Fornitura di acqua, reti fognarie, attività di gestione dei rifiuti",
        45.0,
        0.05,
    ),
    ("F", "Costruzioni", 190.0, 0.8),
    ("G", "Commercio all'ingrosso e al dettaglio", 240.0, 0.15),
    ("H", "Trasporto e magazzinaggio", 230.0, 0.7),
    (
        "I",
        "Attività dei servizi di alloggio e di ristorazione",
        110.0,
        0.05,
    ),
    ("J", "Servizi di informazione e comunicazione", 15.0, 0.01),
    ("K", "Attività finanziarie e assicurative", 10.0, 0.01),
    ("L", "Attività immobiliari", 8.0, 0.01),
    (
        "M",
        "Attività professionali, scientifiche e tecniche",
        30.0,
        0.03,
    ),
    (
        "N",
        "Noleggio, agenzie di viaggio, servizi di supporto alle imprese",
        170.0,
        0.12,
    ),
    ("O", "Amministrazione pubblica e difesa", 60.0, 0.03),
    ("P", "Istruzione", 30.0, 0.01),
    ("Q", "Sanità e assistenza sociale", 210.0, 0.03),
    (
        "R",
        "Attività artistiche, sportive, di intrattenimento",
        20.0,
        0.02,
    ),
    ("S", "Altre attività di servizi", 25.0, 0.02),
    ("ND", "Non determinato", 330.0, 0.4),
];

fn year_factor(year: i32, section: &str) -> f64 {
    let health = section == "Q";
    match year {
        2020 => {
            if health {
                2.8
            } else {
                0.8
            }
        }
        2021 => {
            if health {
                1.3
            } else {
                0.92
            }
        }
        2022 => {
            if health {
                1.4
            } else {
                1.08
            }
        }
        2023 => 0.95,
        2024 => 0.96,
        _ => 1.0,
    }
}

pub fn write(ctx: &Ctx, truth: &mut Truth, manifest: &mut Manifest) -> Result<(), SynthError> {
    let mut rng = crate::rng::stream(ctx.seed, "accidents");
    let mut sink = Sink::create(ctx.root, FILE)?;
    sink.header(HEADER.as_bytes())?;
    let mut line = Line::new(b';');
    let rows = ((ctx.last - ctx.first + 1) as usize) * SECTIONS.len();
    // One negative count somewhere in the table.
    let bad = rng.random_range(0..rows);
    let mut k = 0;
    for year in ctx.first..=ctx.last {
        for &(code, name, base, fatal) in &SECTIONS {
            let lambda = (base * ctx.scale * year_factor(year, code)).max(1e-9);
            let reported = Poisson::new(lambda)
                .expect("valid poisson")
                .sample(&mut rng) as u64;
            let p_rec = if code == "Q" && year == 2020 {
                0.8
            } else {
                0.64
            };
            let recognised = if reported == 0 {
                0
            } else {
                Binomial::new(reported, p_rec)
                    .expect("valid binomial")
                    .sample(&mut rng)
            };
            let mut deaths = Poisson::new((fatal * ctx.scale).max(1e-9))
                .expect("valid poisson")
                .sample(&mut rng) as u64;
            deaths = deaths.min(recognised);
            let l = &mut line;
            l.clear();
            l.int(year as u64)
                .text("Comune di Modena")
                .text(code)
                .text(name)
                .int(reported)
                .int(recognised);
            if k == bad {
                l.text(&format!("-{}", 1 + deaths));
            } else {
                l.int(deaths);
            }
            let bytes = l.end().to_vec();
            let line_no = sink.next_line();
            sink.row(&bytes)?;
            if k == bad {
                truth.defect("accidents", FILE, line_no, "fatal", Kind::OutOfRange)?;
            }
            k += 1;
        }
    }
    sink.finish(manifest)
}
