//! The custodian sources and the run that produces them year by year.
//!
//! Each source module draws from its own random stream and writes its own file(s); yearly
//! sources stream their rows as each simulated year ends, the others keep a small amount of
//! state (cases, applications, benefit spells) and write once at the end.

pub mod anagrafe;
pub mod gol;
pub mod housing;
pub mod inail;
pub mod isee;
pub mod min_income;
pub mod passi;
pub mod services;
pub mod social;

use std::path::Path;

use chrono::NaiveDate;

use crate::dirty::Truth;
use crate::out::{Manifest, Progress, Sink, ymd};
use crate::population::{Isee, Status, World};
use crate::territory::Territory;
use crate::{SynthError, SynthOptions, SynthProgress, SynthReport, custodian, project, truth};

/// What every source needs to know about the run.
pub struct Ctx<'a> {
    pub root: &'a Path,
    pub seed: u64,
    pub scale: f64,
    pub first: i32,
    pub last: i32,
    /// When the custodians exported their files.
    pub extraction: NaiveDate,
}

impl Ctx<'_> {
    /// The last day covered by the data.
    pub fn data_end(&self) -> NaiveDate {
        ymd(self.last, 12, 31)
    }
}

/// Year-end view shared by the yearly sources: every household's ISEE.
pub struct YearView {
    pub year: i32,
    pub end: NaiveDate,
    /// ISEE of each household (`None` for dissolved ones).
    pub isee: Vec<Option<Isee>>,
}

impl YearView {
    fn new(world: &World, year: i32) -> YearView {
        let end = ymd(year, 12, 31);
        let isee = world
            .households
            .iter()
            .enumerate()
            .map(|(h, hh)| {
                if hh.active {
                    Some(world.isee(h as u32, end))
                } else {
                    None
                }
            })
            .collect();
        YearView { year, end, isee }
    }
}

pub fn run(
    opts: &SynthOptions,
    progress: &mut dyn FnMut(SynthProgress),
) -> Result<SynthReport, SynthError> {
    let root = opts.out.as_path();
    std::fs::create_dir_all(root).map_err(|e| SynthError::io(root, e))?;
    remove_stale_snapshots(root, opts.first_year, opts.last_year)?;
    let ctx = Ctx {
        root,
        seed: opts.seed,
        scale: opts.scale,
        first: opts.first_year,
        last: opts.last_year,
        extraction: ymd(opts.last_year + 1, 1, 15),
    };
    let mut prog = Progress::new(progress);
    let mut manifest = Manifest::default();
    prog.stage("building the territory");
    let territory = Territory::build();
    let mut truth = Truth::new(
        Sink::create(root, "truth/defects.csv")?,
        Sink::create(root, "truth/record_links.csv")?,
    )?;
    prog.stage("building the initial population");
    let mut world = World::new(&territory, opts.seed);
    let households = (85_000.0 * opts.scale).round().max(1.0) as usize;
    world.populate(households, ymd(opts.first_year - 1, 12, 31));

    let mut register = anagrafe::Register::new(&ctx)?;
    let mut isee = isee::IseeSource::new(&ctx)?;
    let mut social = social::Social::new(&ctx);
    let mut housing = housing::Housing::new(&ctx);
    let mut min_income = min_income::MinIncome::new(&ctx);
    let mut gol = gol::Gol::new(&ctx)?;
    let mut health = passi::Health::new(&ctx);
    let mut supply = services::Supply::new(&ctx);
    let mut rates = truth::ZoneRates::new(&ctx)?;
    let mut residents_last = 0;
    let mut households_last = 0;

    for year in opts.first_year..=opts.last_year {
        prog.stage("simulating a year");
        world.simulate_year(year, &mut |e| register.event(e, &mut truth))?;
        world.record_history();
        prog.stage("writing the register snapshot");
        register.snapshot(&world, year, &mut truth, &mut prog)?;
        prog.stage("writing the yearly sources");
        let view = YearView::new(&world, year);
        let declarations = isee.year(&world, &view, &mut truth)?;
        let cases = social.year(&world, &view);
        housing.year(&world, &view);
        let benefits = min_income.year(&world, &view);
        gol.year(
            &mut world,
            &view,
            min_income.active_households(),
            &mut truth,
        )?;
        let prevalences = health.year(&world, &view);
        supply.year(&world, &view);
        rates.year(
            &world,
            &view,
            truth::YearCounts {
                declarations: &declarations,
                cases: &cases,
                benefits: &benefits,
                prevalences: &prevalences,
            },
        )?;
        residents_last = world
            .persons
            .iter()
            .filter(|p| p.status == Status::Resident)
            .count() as u64;
        households_last = world.households.iter().filter(|h| h.active).count() as u64;
        prog.poll();
    }
    prog.stage("writing the remaining sources");
    register.finish(&mut manifest)?;
    isee.finish(&mut manifest)?;
    supply.count_cases(&world, &social);
    social.write(&ctx, &world, &mut truth, &mut manifest)?;
    housing.write(&ctx, &world, &mut truth, &mut manifest)?;
    min_income.write(&ctx, &world, &mut truth, &mut manifest)?;
    gol.finish(&mut manifest)?;
    health.write(&ctx, &mut truth, &mut manifest)?;
    inail::write(&ctx, &mut truth, &mut manifest)?;
    let provisions = supply.write(&ctx, &world, &mut truth, &mut manifest)?;
    prog.stage("writing the registry of providers and services");
    crate::registry::write(&ctx, &territory, &provisions, &mut manifest)?;
    prog.stage("writing the truth, the custodian specs and the lab project");
    rates.finish(&mut manifest)?;
    truth::persons(&ctx, &world, &mut manifest, &mut prog)?;
    truth::readme(&ctx, &mut manifest)?;
    custodian::write(&ctx, &territory, &mut manifest)?;
    project::write(&ctx, &territory, &mut manifest)?;
    truth.finish(&mut manifest)?;
    prog.flush();
    let mut files = manifest.files;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(SynthReport {
        residents_last_year: residents_last,
        households_last_year: households_last,
        files,
    })
}

/// Removes register snapshots of years outside this run left by an earlier run in the same
/// folder: the register's custodian job reads `anagrafe_*.csv`. Every other file is overwritten in place.
fn remove_stale_snapshots(root: &Path, first: i32, last: i32) -> Result<(), SynthError> {
    let dir = root.join("custodian/anagrafe");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry.map_err(|e| SynthError::io(&dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let year = name
            .strip_prefix("anagrafe_")
            .and_then(|n| n.strip_suffix(".csv"))
            .and_then(|y| y.parse::<i32>().ok());
        if let Some(y) = year
            && !(first..=last).contains(&y)
        {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| SynthError::io(&path, e))?;
        }
    }
    Ok(())
}
