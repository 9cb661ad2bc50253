//! The truth folder: who everyone really is (`persons.csv`), what each zone really looks like
//! every year (`zone_rates.csv`), and a README. Record links, defects and true health
//! prevalences are written by the sources as they go.

use crate::SynthError;
use crate::out::{Line, Manifest, Progress, Sink, write_file};
use crate::places::{self, COUNTRIES};
use crate::population::{
    EntryKind, NO_ZONE, Status, World, age_on, household_number, register_number,
};
use crate::sources::isee::LOW_ISEE;
use crate::sources::{Ctx, YearView};

pub const RATES_FILE: &str = "truth/zone_rates.csv";
pub const PERSONS_FILE: &str = "truth/persons.csv";

/// Per-zone counts the yearly sources report back.
pub struct YearCounts<'a> {
    pub declarations: &'a [u32],
    pub cases: &'a [u32],
    pub benefits: &'a [u32],
    pub prevalences: &'a [[f64; 5]],
}

pub struct ZoneRates {
    sink: Sink,
}

impl ZoneRates {
    pub fn new(ctx: &Ctx) -> Result<ZoneRates, SynthError> {
        let mut sink = Sink::create(ctx.root, RATES_FILE)?;
        sink.header(
            b"year,zone_code,residents,households,mean_household_size,share_minors,share_65plus,share_80plus,\
share_foreign,share_one_person_households,births,deaths,immigrations,emigrations,moves_in,moves_out,\
households_isee_below_9360,share_households_isee_below_9360,mean_isee,isee_declaring_households,\
min_income_households,social_cases_started,prev_bad_health,prev_depressive_symptoms,prev_smoking,\
prev_sedentary,prev_obesity\n",
        )?;
        Ok(ZoneRates { sink })
    }

    pub fn year(
        &mut self,
        world: &World,
        view: &YearView,
        counts: YearCounts,
    ) -> Result<(), SynthError> {
        let nz = world.territory.zones.len();
        #[derive(Default, Clone)]
        struct Acc {
            residents: u64,
            households: u64,
            minors: u64,
            old: u64,
            very_old: u64,
            foreign: u64,
            single: u64,
            low: u64,
            isee_sum: f64,
        }
        let mut acc = vec![Acc::default(); nz];
        for p in &world.persons {
            if p.status != Status::Resident {
                continue;
            }
            let z = world.households[p.household as usize].zone as usize;
            let a = &mut acc[z];
            let age = age_on(p.birth, view.end);
            a.residents += 1;
            a.minors += (age < 18) as u64;
            a.old += (age >= 65) as u64;
            a.very_old += (age >= 80) as u64;
            a.foreign += (p.citizenship != 0) as u64;
        }
        for (h, hh) in world.households.iter().enumerate() {
            let Some(isee) = view.isee[h] else { continue };
            let a = &mut acc[hh.zone as usize];
            a.households += 1;
            a.single += (hh.members.len() == 1) as u64;
            a.low += (isee.value < LOW_ISEE) as u64;
            a.isee_sum += isee.value;
        }
        let share = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        let mut line = Line::new(b',');
        for (z, a) in acc.iter().enumerate() {
            let d = &world.zone_year[z];
            let l = &mut line;
            l.clear();
            l.int(view.year as u64)
                .text(&world.territory.zones[z].code)
                .int(a.residents)
                .int(a.households);
            for v in [
                share(a.residents, a.households),
                share(a.minors, a.residents),
                share(a.old, a.residents),
                share(a.very_old, a.residents),
                share(a.foreign, a.residents),
                share(a.single, a.households),
            ] {
                l.text(&format!("{v:.4}"));
            }
            for v in [
                d.births,
                d.deaths,
                d.immigrations,
                d.emigrations,
                d.moves_in,
                d.moves_out,
            ] {
                l.int(v as u64);
            }
            l.int(a.low)
                .text(&format!("{:.4}", share(a.low, a.households)));
            l.text(&format!(
                "{:.2}",
                if a.households == 0 {
                    0.0
                } else {
                    a.isee_sum / a.households as f64
                }
            ));
            l.int(counts.declarations[z] as u64)
                .int(counts.benefits[z] as u64)
                .int(counts.cases[z] as u64);
            for v in counts.prevalences[z] {
                l.text(&format!("{v:.4}"));
            }
            let bytes = l.end().to_vec();
            self.sink.row(&bytes)?;
        }
        Ok(())
    }

    pub fn finish(self, manifest: &mut Manifest) -> Result<(), SynthError> {
        self.sink.finish(manifest)
    }
}

/// `truth/persons.csv`: every person who ever lived in the city during the simulated years.
pub fn persons(
    ctx: &Ctx,
    world: &World,
    manifest: &mut Manifest,
    prog: &mut Progress,
) -> Result<(), SynthError> {
    let mut sink = Sink::create(ctx.root, PERSONS_FILE)?;
    let mut header = String::from(
        "person_id,tax_code,omocodia_level,surname,first_name,sex,birth_date,birth_place_code,birth_place,\
citizenship,citizenship_at_entry,naturalised_year,entry_kind,entry_date,exit_kind,exit_date,education,disabled_last",
    );
    for y in ctx.first..=ctx.last {
        header.push_str(&format!(",zone_{y},household_{y}"));
    }
    header.push('\n');
    sink.header(header.as_bytes())?;
    let mut line = Line::new(b',');
    let mut pending = 0u64;
    for (i, p) in world.persons.iter().enumerate() {
        let i = i as u32;
        let (code, place) = places::place(p.birth_place);
        let l = &mut line;
        l.clear();
        l.id("A", register_number(i), 8)
            .bytes(&p.cf)
            .int(p.omocodia as u64)
            .text(&csv_field(world.surname(i)))
            .text(&csv_field(world.given_name(i)))
            .text(if p.female { "F" } else { "M" })
            .iso(p.birth)
            .text(code)
            .text(&csv_field(place))
            .text(COUNTRIES[p.citizenship as usize].iso3)
            .text(COUNTRIES[p.citizenship_orig as usize].iso3);
        if p.naturalised > 0 {
            l.int(p.naturalised as u64);
        } else {
            l.empty();
        }
        l.text(match p.entry_kind {
            EntryKind::Initial => "initial",
            EntryKind::Birth => "birth",
            EntryKind::Immigration => "immigration",
        });
        if p.entry_kind == EntryKind::Initial {
            l.empty();
        } else {
            l.iso(p.entry);
        }
        match (p.status, p.exit) {
            (Status::Dead, Some(d)) => l.text("death").iso(d),
            (Status::Emigrated, Some(d)) => l.text("emigration").iso(d),
            _ => l.empty().empty(),
        };
        l.int(p.education as u64)
            .text(if p.disabled { "true" } else { "false" });
        for (zones, hhs) in &world.history {
            let z = zones.get(i as usize).copied().unwrap_or(NO_ZONE);
            if z == NO_ZONE {
                l.empty().empty();
            } else {
                l.text(&world.territory.zones[z as usize].code).id(
                    "F",
                    household_number(hhs[i as usize]),
                    8,
                );
            }
        }
        let bytes = l.end().to_vec();
        sink.row(&bytes)?;
        pending += 1;
        if pending.is_multiple_of(10_000) {
            prog.poll();
        }
    }
    prog.poll();
    sink.finish(manifest)
}

fn csv_field(s: &str) -> String {
    if s.contains(',') || s.contains('"') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn readme(ctx: &Ctx, manifest: &mut Manifest) -> Result<(), SynthError> {
    let text = format!(
        "# Truth of the synthetic city

Generated with seed {seed}, scale {scale}, years {first}-{last}. Everything here is known only
because the city is synthetic: tests use it to grade what the lab reconstructs from the
pseudonymized custodian files. Nothing in this folder may be read by the lab project itself.

## persons.csv

One row per person who lived in the city at any time during the simulated years (including
people born, arrived, dead or gone within a single year).

- `person_id`: the true person id, equal to the register id `ID_INDIVIDUO` of the anagrafe
  (persons keep it for life; the lab sees it only as the pseudonym `register_pid`).
- `tax_code`, `omocodia_level`: the codice fiscale the register holds; level > 0 means digits
  were replaced by letters (omocodia), 0 a regular code.
- `surname`, `first_name`, `sex`, `birth_date` (ISO), `birth_place_code` (Belfiore code or
  `Z` code of the country), `birth_place`.
- `citizenship` (ISO 3166 alpha-3, at the end of the person's presence),
  `citizenship_at_entry`, `naturalised_year`.
- `entry_kind` (initial, birth, immigration) and `entry_date` (empty for the initial
  population), `exit_kind` (death, emigration) and `exit_date`.
- `education` (0 none/primary, 1 lower secondary, 2 upper secondary, 3 degree),
  `disabled_last` (disability status at the end).
- `zone_YYYY`, `household_YYYY`: zone code and register household id on 31 December of each
  year; empty when not resident then.

## record_links.csv

For every person-level record of every custodian source (register snapshots, register events,
ISEE declarations, social cases, housing applications, minimum-income spells, GOL measures):
`source` (the lab source name), `file` (the raw file, relative to the output folder), `line`
(1-based physical line where the record starts, counting the header; the sheet row for XLSX),
`record_key` (the record's own id in that file) and the true `person_id`. Repeated rows
(injected duplicates) appear once per physical copy. Records without a tax code are listed
too, with their true person.

## defects.csv

One row per injected defect: `source`, `file`, `line` (as above), `column`, `kind` and
`expect_quarantine`. `column` is the lab column the defect is in, or for a raw column that
never reaches the lab the canonical name it would have: `tax_code` (pseudonymized into
`person_pid`), `surname`, `first_name` (dropped, or hashed into the register's weak
`person_wpid`); a defect in the register's `DATA_NASCITA` is reported as `birth_date` (the lab
sees it as `birth_month` and `birth_year`). A record may carry two rows (a repeated record
without a tax code).

Kinds that must be quarantined (`expect_quarantine = true`), and where:

- at the custodian, by `datalab pseudonymize`: `invalid_tax_code` (a wrong check character:
  the pseudonymizer rejects a code it cannot validate, in every source that has one), and in
  register snapshots `invalid_date` in `birth_date` (an impossible `DATA_NASCITA` such as
  31/02 cannot be generalized to a month or a year, nor hashed into the weak pseudonym);
- in the lab build, by the lab specs: everything else, i.e. `duplicate_row` (the repeat,
  caught by the spec's `unique` key), `invalid_date` in the other columns (e.g. 31/02; dates
  the custodian keeps as raw text), `out_of_range` (including register birth dates before
  1900, which the custodian generalizes without complaint), `non_numeric`, `unknown_zone`,
  `invalid_value` (outside an `allowed` list; an invalid register `SESSO` also enters the weak
  pseudonym, so a pseudonymizer that checks it may reject the row already), and
  `missing_required` (an empty register `ID_FAMIGLIA` leaves `household_pid` empty, and the
  lab rejects the row).

Dirty but valid (`false`): `no_tax_code` (a social-services record, about 4% of them and
only for people born abroad, whose `CF_BENEFICIARIO` is empty: the person reached the
services before having a tax code; the custodian falls back to a weak pseudonym from
surname, first name, birth date and sex, and since those names go through the same typo
process as every other record, some of these weak pseudonyms do not match the register's
`person_wpid`), `missing_optional`, `name_typo` (the same person's name spelled differently
from the register), `correction` (an ISEE declaration re-submitted with corrected values
under a later protocol: both rows are valid) and `late_registration` (a register event
recorded months after it happened).

Rows not listed here are clean. Aggregated sources (health survey, accidents, services
supply) carry one or two defects each when large enough.

## The custodian's side (outside this folder)

For each lab source, `custodian/specs/<source>.toml` tells `datalab pseudonymize` how to read
the raw file(s) and what to do with each raw column (keyed pseudonym, tax-code derivations,
generalization, keep, drop); it writes `lab/data/<source>/<raw file stem>.parquet`, the only
data the lab specs read. GOL is pseudonymized by the labour agency with its own key, every
other source by the city. `custodian/stradario.csv` is the street table addresses are
generalized with: one row per street (`street` exactly as written before the civic number in
`INDIRIZZO`, empty `number_from`, `number_to` and `parity` because every street lies in one
zone, `zone`, `postcode`); the historic centre (Q1) is 41121, every other zone takes 41122 to
41126 by the direction of its centroid from the city centre, in five 72-degree sectors
counter-clockwise from due east. Birth years the custodian derives from a tax code read its
two-digit year as the latest year that leaves the person at least `min_age` years old in the
last simulated year (`min_age = 18` for ISEE declarants, housing and minimum-income applicants,
16 for GOL participants): only people aged 100 or more plus `min_age` get the wrong century (the
true birth dates are in `persons.csv`).

## zone_rates.csv

Per year and zone, on 31 December: residents, households, mean household size, shares of
minors, people aged 65+ and 80+, foreign citizens and one-person households; the year's
births, deaths, immigrations, emigrations and moves in/out of the zone (moves within the zone
are not counted); households with an ISEE below 9,360 euro (the true ISEE of every household,
declared or not) and their share, mean ISEE, households that filed an ISEE declaration,
households that received a minimum-income benefit during the year, social cases opened; true
prevalences (proportions) of the health indicators among residents aged 18-69: bad perceived
health, depressive symptoms, smoking, sedentary lifestyle, obesity.

## health_prevalences.csv

The true prevalence behind every row of `custodian/ausl/passi_prevalenze.csv` (in percent):
the published prevalence is a binomial draw of size `n` around it, with a Wilson 95% interval.

## services_supply.csv

The true values behind every row of `custodian/sociale/offerta_servizi.csv` (the social-services
department's yearly supply table, lab source `services_supply`), before the injected defects (a
negative `POSTI`, an unknown `ZONA`): `year`, `zone_code`, `service`, `provider_type`,
`places`, `users`, `operators`, `fte` (decimal point) and `waiting_list` as published, then:

- `catchment`: the zones the row's places serve, space-separated, its own zone first. Home care
  (`assistenza domiciliare`) is organised in every zone for that zone only; facilities (day
  centres, residences, nurseries, after-school centres, temporary housing) exist only in some
  zones and also serve the zones of the same district that have none, so a zone missing from
  the table for a service is served by the row whose catchment lists it.
- `target_population` on 31 December in the catchment: residents aged 80+ (home care, elderly
  residences), 65+ (elderly day centres), disabled residents aged 18-64 (day centres for the
  disabled), children aged 0-2 (nurseries), 6-13 (after-school centres), households with an
  ISEE below 9,360 euro (temporary housing; the true ISEE, as in `zone_rates.csv`).
- `social_cases`: cases of the cartella sociale for that service (home care of the elderly and
  the disabled, day centre, placement in a residence, after-school centre, temporary housing;
  none for nurseries) in progress on 31 December in the catchment. The cartella only holds
  cases opened from {first} on, so the first years count fewer.
- `demand`: the people asking for the service on 31 December, the larger of `social_cases`
  and a need drawn from the target population (a few per 100 residents aged 80+ for home care,
  about 36% of children aged 0-2 for nurseries); in 2020 lower for nurseries and after-school
  centres.

Places (at least one) follow the target population with a per-facility factor that moves
places between zones, not in or out of the city: in the first year there are nursery places
for 30% of the children aged 0-2 city-wide, far fewer in some zones and none where there is no
nursery. Home-care slots follow the population every year; a facility keeps its capacity
except for an occasional expansion or cut. `users = min(demand, usable places)`: the places,
times 1.08 where the provider overbooks (about a third of the home-care and nursery rows, so
`users > places` there now and then), and in 2020 fewer in day centres and residences
(closures, distancing). `waiting_list = demand - users`: it is long exactly where places are
short. `operators` are proportional to places, `fte` a share of them fixed per facility.

## registry.csv

The synthetic registry of providers and services is the city's registry export, `registry/` (next
to `custodian/` and `lab/`), in the registry's plain-CSV format (one `<table>.csv` per table;
`datalab registry import --format csv` reads it into `lab/registry.sqlite`). It holds no person:
names, e-mails and phones are those of bodies and offices. It describes the city on 31 December {last}:

- every row of the supply table's last year is a service at a location in the row's zone (the
  service carries the attribute `offerta-servizi:<service>`, the location the zone code), run
  by a public body, a third-sector body or a company as the row's `provider_type` says, with
  the row's places, users and waiting list as its capacity, its operators and FTE split by
  profile, and its catchment as the service area;
- every area and intervention type of the cartella sociale is the attribute
  `cartella-sociale:<area>:<type>` of at least one service;
- around them: public bodies, the third sector (more of it in poorer zones) and for-profit
  providers, their number growing with the scale; schedules, fees, contracts with the
  municipality (and the health authority), funding, staff; locations lie inside their zone, on
  one of its streets, with its postcode.

This file lists what the registry's quality reports must find, and nothing else: `report`
(`duplicates`, as `Registry::duplicates()` reports them, or `stale`, as
`Registry::stale(31 December {last}, {months})` does), `table`, `id`, `other_id` (the second
organization of a pair; the smaller id comes first), `reason` (`same_tax_id`, `similar_name`,
`never_verified`, `verified_before`), `planted` and `note`.

- Planted duplicates: at least three third-sector or for-profit bodies (about eight at scale 1)
  are entered twice, in turn: in capitals with the legal form abbreviated and the tax id
  written with the `IT` prefix (both reasons), with another registered office and a short name
  (same tax id), or with a typo in the name and no tax id (similar name). The second entry
  runs no service and was verified long ago or never.
- `planted = false`: two distinct bodies whose names the name rule confuses. Names are drawn
  so that none resembles another; a pair is listed only when that failed.
- Stale: about 7% of the non-public bodies and 8% of the services were last verified 14
  months to 4 years before, about 3% never; every other record within the last 11 months.
",
        seed = ctx.seed,
        scale = ctx.scale,
        first = ctx.first,
        last = ctx.last,
        months = crate::registry::STALE_MONTHS,
    );
    write_file(ctx.root, "truth/README.md", &text, 0, manifest)
}
