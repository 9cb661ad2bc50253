//! Search over a small invented registry of a town's services (no real person or organization).

use chrono::{NaiveDateTime, NaiveTime};

use super::*;
use crate::codes::{LocationType, OrganizationKind};
use crate::testutil::ts;

fn org(id: &str, name: &str, status: Status) -> Organization {
    Organization {
        id: id.into(),
        name: name.into(),
        kind: Some(OrganizationKind::ThirdSector),
        municipality: Some("Prova".into()),
        status,
        ..Organization::default()
    }
}

fn service(id: &str, org: &str, name: &str, description: &str, risks: &[SocialRisk]) -> Service {
    Service {
        id: id.into(),
        organization_id: org.into(),
        name: name.into(),
        description: Some(description.into()),
        risks: risks.to_vec(),
        ..Service::default()
    }
}

fn location(id: &str, name: &str, zone: &str, lat: f64, town: &str) -> Location {
    Location {
        id: id.into(),
        location_type: LocationType::Physical,
        name: Some(name.into()),
        latitude: Some(lat),
        longitude: Some(9.0),
        municipality: Some(town.into()),
        zone: Some(zone.into()),
        ..Location::default()
    }
}

fn address(location: &str, street: &str) -> Address {
    Address {
        id: format!("a-{location}"),
        location_id: location.into(),
        address_1: street.into(),
        city: "Prova".into(),
        state_province: "PV".into(),
        postal_code: "00100".into(),
        country: "IT".into(),
        ..Address::default()
    }
}

fn sal(service: &str, location: &str) -> ServiceAtLocation {
    ServiceAtLocation {
        id: format!("sal-{service}-{location}"),
        service_id: service.into(),
        location_id: location.into(),
        description: None,
    }
}

/// A weekly schedule (no `byday`: every day) of whatever `owner` sets.
fn schedule(id: &str, byday: Option<&str>, opens: &str, closes: &str) -> Schedule {
    let time = |t: &str| NaiveTime::parse_from_str(t, "%H:%M").ok();
    Schedule {
        id: id.into(),
        freq: byday.map(|_| "WEEKLY".into()),
        byday: byday.map(Into::into),
        opens_at: time(opens),
        closes_at: time(closes),
        ..Schedule::default()
    }
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

/// The town: three places in three zones (Nord 2.2 km north of the centre, Sud 2.2 km south,
/// Sud in another municipality), seven public services, one temporarily closed, and two that
/// the public map leaves out (a defunct service, an inactive organization's service).
fn town() -> Registry {
    use SocialRisk::*;
    let mut reg = Registry::open_in_memory().unwrap();
    reg.edit_at("test", ts("2024-03-01T08:00:00Z"), |e| {
        e.insert(&org("o-comune", "Comune di Prova", Status::Active))?;
        e.insert(&org(
            "o-girasole",
            "Cooperativa Sociale Il Girasole",
            Status::Active,
        ))?;
        e.insert(&org("o-mani", "Associazione Mani Aperte", Status::Active))?;
        e.insert(&org("o-vecchia", "Associazione Vecchia", Status::Inactive))?;
        e.insert(&location("l-centro", "Sede centrale", "Z1", 45.0, "Prova"))?;
        e.insert(&location(
            "l-nord",
            "Casa di quartiere Nord",
            "Z2",
            45.02,
            "Prova",
        ))?;
        e.insert(&location(
            "l-sud",
            "Centro civico Sud",
            "Z3",
            44.98,
            "Forlì",
        ))?;
        e.insert(&address("l-centro", "Via Roma 1"))?;
        e.insert(&address("l-nord", "Via dei Mille 20"))?;
        e.insert(&address("l-sud", "Piazza Garibaldi 5"))?;

        let mut s = service(
            "s-sad",
            "o-comune",
            "Assistenza domiciliare anziani",
            "Aiuto a casa per l'anziano non autosufficiente: igiene personale, pasti e compagnia.",
            &[NonSelfSufficiency],
        );
        s.target_groups = vec![TargetGroup::Elderly];
        s.minimum_age = Some(65);
        s.free = Some(true);
        e.insert(&s)?;
        let mut s = service(
            "s-mensa",
            "o-mani",
            "Mensa solidale",
            "Pasti caldi ogni sera per persone in difficoltà.",
            &[Poverty],
        );
        s.target_groups = vec![TargetGroup::Homeless];
        s.free = Some(true);
        e.insert(&s)?;
        let mut s = service(
            "s-doposcuola",
            "o-girasole",
            "Doposcuola",
            "Attività di sostegno allo studio per ragazzi delle scuole medie.",
            &[Education],
        );
        s.target_groups = vec![TargetGroup::Minors];
        (s.minimum_age, s.maximum_age, s.free) = (Some(11), Some(14), Some(false));
        e.insert(&s)?;
        let mut s = service(
            "s-lavoro",
            "o-comune",
            "Sportello lavoro stranieri",
            "Orientamento al lavoro e bilancio di competenze per cittadini stranieri.",
            &[Work, Migration],
        );
        s.target_groups = vec![TargetGroup::Migrants, TargetGroup::Unemployed];
        s.minimum_age = Some(18);
        s.free = Some(true);
        e.insert(&s)?;
        let mut s = service(
            "s-ascolto",
            "o-mani",
            "Centro di ascolto",
            "Ascolto e orientamento ai servizi della citta.",
            &[Poverty],
        );
        s.target_groups = vec![TargetGroup::All];
        s.free = Some(true);
        e.insert(&s)?;
        let mut s = service(
            "s-casa",
            "o-comune",
            "Emergenza abitativa",
            "Alloggi temporanei per famiglie sfrattate.",
            &[Housing],
        );
        s.target_groups = vec![TargetGroup::Families];
        e.insert(&s)?;
        let mut s = service(
            "s-tele",
            "o-girasole",
            "Telesoccorso",
            "Un pulsante per chiamare aiuto: per l'anziano che vive solo.",
            &[Health],
        );
        s.status = Status::TemporarilyClosed;
        e.insert(&s)?;
        let mut s = service(
            "s-chiuso",
            "o-girasole",
            "Centro diurno anziani",
            "Chiuso.",
            &[NonSelfSufficiency],
        );
        s.status = Status::Defunct;
        e.insert(&s)?;
        e.insert(&service(
            "s-vecchia",
            "o-vecchia",
            "Ludoteca",
            "Giochi.",
            &[Childcare],
        ))?;

        for (s, l) in [
            ("s-sad", "l-centro"),
            ("s-sad", "l-nord"),
            ("s-mensa", "l-sud"),
            ("s-doposcuola", "l-nord"),
            ("s-lavoro", "l-centro"),
            ("s-ascolto", "l-nord"),
            ("s-tele", "l-sud"),
            ("s-chiuso", "l-nord"),
            ("s-vecchia", "l-nord"),
        ] {
            e.insert(&sal(s, l))?;
        }

        // Opening hours of two places; the services' own schedules are more specific.
        let mut h = schedule("h-centro", Some("MO,TU,WE,TH,FR"), "08:00", "20:00");
        h.location_id = Some("l-centro".into());
        e.insert(&h)?;
        let mut h = schedule("h-nord", Some("MO,TU,WE,TH,FR,SA"), "09:00", "19:00");
        h.location_id = Some("l-nord".into());
        e.insert(&h)?;
        let mut h = schedule("h-sad", Some("MO,TU,WE,TH,FR"), "08:00", "18:00");
        h.service_id = Some("s-sad".into());
        e.insert(&h)?;
        let mut h = schedule("h-mensa", None, "19:00", "21:30");
        h.service_at_location_id = Some("sal-s-mensa-l-sud".into());
        e.insert(&h)?;
        let mut h = schedule("h-doposcuola", Some("MO,TU,WE,TH,FR"), "14:30", "18:30");
        h.service_at_location_id = Some("sal-s-doposcuola-l-nord".into());
        e.insert(&h)?;
        let mut h = schedule("h-lavoro-day", Some("TU,TH"), "09:00", "13:00");
        h.service_at_location_id = Some("sal-s-lavoro-l-centro".into());
        e.insert(&h)?;
        let mut h = schedule("h-lavoro-evening", Some("MO"), "17:00", "20:00");
        h.service_at_location_id = Some("sal-s-lavoro-l-centro".into());
        e.insert(&h)
    })
    .unwrap();
    reg
}

fn index() -> SearchIndex {
    SearchIndex::build(&town()).unwrap()
}

/// `service@location` (or the service alone) of each hit, in order.
fn ids(hits: &[Hit]) -> Vec<String> {
    hits.iter()
        .map(|h| match &h.location_id {
            Some(l) => format!("{}@{l}", h.service_id),
            None => h.service_id.clone(),
        })
        .collect()
}

fn check(index: &SearchIndex, query: &Query, expect: &[&str]) {
    let hits = index.search(query);
    assert_eq!(ids(&hits), expect, "{query:?}\n{hits:#?}");
}

fn check_text(index: &SearchIndex, text: &str, expect: &[&str]) {
    check(index, &Query::text(text), expect);
}

fn score(index: &SearchIndex, query: &Query, id: &str) -> f64 {
    let hits = index.search(query);
    let hit = hits.iter().zip(ids(&hits)).find(|(_, i)| i == id);
    hit.unwrap_or_else(|| panic!("{id} not found by {query:?}"))
        .0
        .score
}

#[test]
fn one_document_per_service_at_location() {
    let index = index();
    // 2 + 1 + 1 + 1 + 1 + 1 (without a place) + 1 (temporarily closed).
    assert_eq!(index.len(), 8);
    assert_eq!(index.zones(), ["Z1", "Z2", "Z3"]);
    check_text(
        &index,
        "assistenza domiciliare",
        &["s-sad@l-centro", "s-sad@l-nord"],
    );
    let hits = index.search(&Query::text("emergenza abitativa"));
    assert_eq!(hits[0].location_id, None);
    assert_eq!(hits[0].zone, None);
    assert_eq!(hits[0].organization, "Comune di Prova");
}

#[test]
fn stems_join_singular_and_plural() {
    let index = index();
    // "anziano" is only in the telesoccorso's description, "anziani" in the home care's name.
    check_text(
        &index,
        "anziani",
        &["s-sad@l-centro", "s-sad@l-nord", "s-tele@l-sud"],
    );
    check_text(
        &index,
        "anziano",
        &["s-sad@l-centro", "s-sad@l-nord", "s-tele@l-sud"],
    );
    check_text(&index, "domiciliari ", &["s-sad@l-centro", "s-sad@l-nord"]);
    let hits = index.search(&Query::text("anziano"));
    assert_eq!(hits[0].matched, ["anziano"]);
}

#[test]
fn accents_are_folded_both_ways() {
    let index = index();
    check_text(&index, "attivita", &["s-doposcuola@l-nord"]);
    check_text(&index, "ATTIVITÀ", &["s-doposcuola@l-nord"]);
    // The description says "citta" without its accent; "cittadini" is reached by prefix.
    check_text(&index, "città", &["s-ascolto@l-nord", "s-lavoro@l-centro"]);
    check_text(&index, "città ", &["s-ascolto@l-nord"]);
    let hits = index.search(&Query::text("attività"));
    assert_eq!(hits[0].matched, ["attivita"]);
}

#[test]
fn stop_words_are_ignored() {
    let index = index();
    let plain = index.search(&Query::text("doposcuola ragazzi"));
    let wordy = index.search(&Query::text("il doposcuola per i ragazzi"));
    assert_eq!(plain, wordy);
    assert_eq!(plain[0].matched, ["doposcuola", "ragazzi"]);
    // Only stop words: no text, every document by name.
    assert_eq!(
        index.search(&Query::text("per il")),
        index.search(&Query::default())
    );
}

#[test]
fn the_last_word_is_a_prefix_while_typing() {
    let index = index();
    check_text(&index, "domicil", &["s-sad@l-centro", "s-sad@l-nord"]);
    check_text(&index, "dopos", &["s-doposcuola@l-nord"]);
    // A space after it says the word is complete.
    check_text(&index, "dopos ", &[]);
    // Too short to be a prefix.
    check_text(&index, "do", &[]);
    let hits = index.search(&Query::text("assistenza domicil"));
    assert_eq!(hits[0].matched, ["assistenza", "domicil"]);
    // Reached by prefix, a word weighs PREFIX_WEIGHT of the whole word.
    let q = Query::text;
    let whole = score(&index, &q("doposcuola "), "s-doposcuola@l-nord");
    let prefix = score(&index, &q("dopos"), "s-doposcuola@l-nord");
    assert!(
        (prefix - PREFIX_WEIGHT * whole).abs() < 1e-12,
        "{prefix} {whole}"
    );
}

#[test]
fn one_typo_is_forgiven_in_long_words() {
    let index = index();
    check_text(&index, "assistensa", &["s-sad@l-centro", "s-sad@l-nord"]);
    check_text(&index, "dopsocuola", &["s-doposcuola@l-nord"]);
    let hits = index.search(&Query::text("assistensa"));
    assert_eq!(hits[0].matched, ["assistensa"]);
    // Two typos, or a typo in a short word, find nothing.
    check_text(&index, "asistensa", &[]);
    check_text(&index, "cesa ", &[]);
}

#[test]
fn filters_by_need_group_zone_place_age_and_price() {
    let index = index();
    let q = |f: fn(&mut Query)| {
        let mut q = Query::default();
        f(&mut q);
        q
    };
    check(
        &index,
        &q(|q| q.risks = vec![SocialRisk::Education]),
        &["s-doposcuola@l-nord"],
    );
    check(
        &index,
        &q(|q| q.risks = vec![SocialRisk::Poverty, SocialRisk::Health]),
        &["s-ascolto@l-nord", "s-mensa@l-sud", "s-tele@l-sud"],
    );
    // A service for everyone is for the elderly too.
    check(
        &index,
        &q(|q| q.target_groups = vec![TargetGroup::Elderly]),
        &["s-sad@l-centro", "s-sad@l-nord", "s-ascolto@l-nord"],
    );
    // The zone's documents by name, then the one without a place.
    check(
        &index,
        &q(|q| q.zones = vec!["Z2".into()]),
        &[
            "s-sad@l-nord",
            "s-ascolto@l-nord",
            "s-doposcuola@l-nord",
            "s-casa",
        ],
    );
    check(
        &index,
        &q(|q| q.municipality = Some("forli".into())),
        &["s-mensa@l-sud", "s-tele@l-sud"],
    );
    check(
        &index,
        &q(|q| q.age = Some(12)),
        &[
            "s-ascolto@l-nord",
            "s-doposcuola@l-nord",
            "s-casa",
            "s-mensa@l-sud",
            "s-tele@l-sud",
        ],
    );
    check(
        &index,
        &q(|q| q.age = Some(70)),
        &[
            "s-sad@l-centro",
            "s-sad@l-nord",
            "s-ascolto@l-nord",
            "s-casa",
            "s-mensa@l-sud",
            "s-lavoro@l-centro",
            "s-tele@l-sud",
        ],
    );
    check(
        &index,
        &q(|q| q.free_only = true),
        &[
            "s-sad@l-centro",
            "s-sad@l-nord",
            "s-ascolto@l-nord",
            "s-mensa@l-sud",
            "s-lavoro@l-centro",
        ],
    );
    // Text and filters together.
    check(
        &index,
        &Query {
            zones: vec!["Z1".into()],
            ..Query::text("anziani")
        },
        &["s-sad@l-centro"],
    );
}

#[test]
fn open_now_uses_the_most_specific_schedules() {
    let index = index();
    let open = |when: &str| {
        let hits = index.search(&Query {
            open_at: Some(at(when)),
            ..Query::default()
        });
        ids(&hits)
    };
    // Monday evening: the evening desk and the canteen. The home care's own hours (to 18:00)
    // win over its place's (to 20:00); the telesoccorso is temporarily closed.
    assert_eq!(
        open("2024-03-04 19:30"),
        ["s-mensa@l-sud", "s-lavoro@l-centro"]
    );
    // Sunday evening: the canteen only.
    assert_eq!(open("2024-03-10 19:30"), ["s-mensa@l-sud"]);
    // Saturday morning: the listening centre, by its place's opening hours.
    assert_eq!(open("2024-03-09 10:00"), ["s-ascolto@l-nord"]);
    // Tuesday at 15:00.
    assert_eq!(
        open("2024-03-05 15:00"),
        [
            "s-sad@l-centro",
            "s-sad@l-nord",
            "s-ascolto@l-nord",
            "s-doposcuola@l-nord"
        ]
    );
    let hits = index.search(&Query {
        open_at: Some(at("2024-03-04 19:30")),
        ..Query::text("sportello")
    });
    assert_eq!(ids(&hits), ["s-lavoro@l-centro"]);
}

/// "Open at" is checked lazily, on the best candidates first and then on more and more of
/// them: any page must be the same slice of the full list.
#[test]
fn pages_of_open_services_are_slices_of_the_whole_list() {
    let index = index();
    for when in ["2024-03-04 19:30", "2024-03-05 15:00", "2024-03-09 10:00"] {
        for text in [None, Some("pasti"), Some("centro"), Some("anziani servizi")] {
            let query = Query {
                text: text.map(Into::into),
                open_at: Some(at(when)),
                zones: if text.is_some() {
                    vec![]
                } else {
                    vec!["Z2".into()]
                },
                limit: 100,
                ..Query::default()
            };
            let all = index.search(&query);
            for offset in 0..=all.len() {
                let page = index.search(&Query {
                    offset,
                    limit: 1,
                    ..query.clone()
                });
                assert_eq!(
                    page,
                    all[offset..all.len().min(offset + 1)],
                    "{query:?} {offset}"
                );
            }
        }
    }
}

#[test]
fn inactive_services_only_when_asked() {
    let reg = town();
    let public = SearchIndex::build(&reg).unwrap();
    check_text(&public, "ludoteca", &[]);
    let hits = public.search(&Query::text("centro diurno"));
    assert_eq!(hits[0].service_id, "s-ascolto");
    assert!(hits.iter().all(|h| h.service_id != "s-chiuso"), "{hits:#?}");
    let hits = public.search(&Query::text("telesoccorso"));
    assert_eq!(hits[0].status, Status::TemporarilyClosed);
    let all = SearchIndex::build_with(
        &reg,
        &IndexOptions {
            include_inactive: true,
            ..IndexOptions::default()
        },
    )
    .unwrap();
    assert_eq!(all.len(), public.len() + 2);
    let hits = all.search(&Query::text("ludoteca"));
    assert_eq!(ids(&hits), ["s-vecchia@l-nord"]);
    // The organization's status passes to its service.
    assert_eq!(hits[0].status, Status::Inactive);
    let hits = all.search(&Query::text("diurno"));
    assert_eq!(hits[0].status, Status::Defunct);
}

#[test]
fn boosts_for_phrase_zone_and_nearness() {
    let index = index();
    let id = "s-sad@l-nord";
    let phrase = score(&index, &Query::text("assistenza domiciliare"), id);
    let words = score(&index, &Query::text("domiciliare assistenza"), id);
    assert!((phrase - words * (1.0 + PHRASE_BOOST)).abs() < 1e-12);
    let plain = score(&index, &Query::text("anziani"), id);
    let zoned = Query {
        zones: vec!["Z2".into()],
        ..Query::text("anziani")
    };
    assert!((score(&index, &zoned, id) - plain * (1.0 + ZONE_BOOST)).abs() < 1e-12);
    // At the northern place, the home care there comes before the one in the centre.
    let near = Query {
        near: Some((45.02, 9.0)),
        ..Query::text("anziani")
    };
    let hits = index.search(&near);
    assert_eq!(ids(&hits)[..2], ["s-sad@l-nord", "s-sad@l-centro"]);
    assert_eq!(hits[0].distance_km, Some(0.0));
    assert!((hits[0].score - plain * (1.0 + NEAR_BOOST)).abs() < 1e-12);
    let km = hits[1].distance_km.unwrap();
    // 0.02 degrees of latitude.
    assert!((km - 2.223_902).abs() < 1e-3, "{km}");
    // Without text: nearest first, then by name; the service without a place last.
    let hits = index.search(&Query {
        near: Some((45.02, 9.0)),
        ..Query::default()
    });
    assert_eq!(
        ids(&hits),
        [
            "s-sad@l-nord",
            "s-ascolto@l-nord",
            "s-doposcuola@l-nord",
            "s-sad@l-centro",
            "s-lavoro@l-centro",
            "s-mensa@l-sud",
            "s-tele@l-sud",
            "s-casa",
        ]
    );
}

/// Three documents, scores worked out by hand from the BM25F formula.
#[test]
fn bm25f_scores_by_hand() {
    let mut reg = Registry::open_in_memory().unwrap();
    reg.edit("test", |e| {
        for (i, (name, description)) in [
            ("Mensa solidale", "Pasti caldi"),
            ("Mensa", "Pasti e mensa per studenti"),
            ("Doposcuola", "Merenda"),
        ]
        .into_iter()
        .enumerate()
        {
            let o = format!("o{i}");
            e.insert(&org(
                &o,
                &format!("Ente {}", ["Alfa", "Beta", "Gamma"][i]),
                Status::Active,
            ))?;
            e.insert(&service(
                &format!("s{}", i + 1),
                &o,
                name,
                description,
                &[SocialRisk::Poverty],
            ))?;
        }
        Ok(())
    })
    .unwrap();
    let index = SearchIndex::build(&reg).unwrap();
    assert_eq!(
        *index.bm25(),
        Bm25 {
            k1: 1.2,
            b: 0.75,
            weights: [4.0, 2.5, 1.5, 1.0, 0.5]
        }
    );
    let (k1, b, w_name, w_desc) = (1.2, 0.75, 4.0, 1.0);
    let n = 3.0;
    let idf = |df: f64| (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
    let saturate = |tf: f64| tf * (k1 + 1.0) / (k1 + tf);
    // Name lengths 2, 1, 1 (average 4/3); descriptions "pasti caldi", "pasti mensa studenti"
    // ("e" and "per" are stop words), "merenda": 2, 3, 1 (average 2).
    let (avg_name, avg_desc) = (4.0 / 3.0, 2.0);
    let norm = |len: f64, avg: f64| 1.0 - b + b * len / avg;
    // "mensa": in s1's name, in s2's name and description.
    let mensa_s1 = idf(2.0) * saturate(w_name / norm(2.0, avg_name));
    let mensa_s2 = idf(2.0) * saturate(w_name / norm(1.0, avg_name) + w_desc / norm(3.0, avg_desc));
    // "caldi": in s1's description only.
    let caldi_s1 = idf(1.0) * saturate(w_desc / norm(2.0, avg_desc));

    let hits = index.search(&Query::text("mensa"));
    assert_eq!(ids(&hits), ["s2", "s1"]);
    assert!((hits[0].score - mensa_s2).abs() < 1e-9, "{}", hits[0].score);
    assert!((hits[1].score - mensa_s1).abs() < 1e-9, "{}", hits[1].score);

    let hits = index.search(&Query::text("mensa caldi"));
    assert_eq!(ids(&hits), ["s1", "s2"]);
    assert!((hits[0].score - (mensa_s1 + caldi_s1)).abs() < 1e-9);
    assert!((hits[1].score - mensa_s2).abs() < 1e-9);
    assert_eq!(hits[0].matched, ["mensa", "caldi"]);
    assert_eq!(hits[1].matched, ["mensa"]);
}

#[test]
fn results_are_deterministic() {
    let reg = town();
    let (a, b) = (
        SearchIndex::build(&reg).unwrap(),
        SearchIndex::build(&reg).unwrap(),
    );
    for text in [
        "anziani",
        "servizi",
        "centro",
        "pasti caldi",
        "ass",
        "orientamento",
    ] {
        let q = Query::text(text);
        let first = a.search(&q);
        assert_eq!(first, b.search(&q), "{text}");
        assert_eq!(first, a.search(&q), "{text}");
    }
    // Equal scores are ordered by id: the two home-care documents score the same.
    let hits = a.search(&Query::text("domiciliare"));
    assert_eq!(hits[0].score, hits[1].score);
    assert_eq!(ids(&hits), ["s-sad@l-centro", "s-sad@l-nord"]);
}

#[test]
fn pages_and_empty_results() {
    let index = index();
    let all = index.search(&Query {
        limit: 100,
        ..Query::default()
    });
    assert_eq!(all.len(), index.len());
    let page = |offset, limit| {
        index.search(&Query {
            offset,
            limit,
            ..Query::default()
        })
    };
    assert_eq!(page(2, 3), all[2..5]);
    assert_eq!(page(7, 3), all[7..]);
    assert!(page(8, 3).is_empty());
    assert!(page(0, 0).is_empty());
    let text_all = index.search(&Query::text("anziani"));
    let text_page = index.search(&Query {
        offset: 1,
        limit: 1,
        ..Query::text("anziani")
    });
    assert_eq!(text_page, text_all[1..2]);
    check_text(&index, "zzzz", &[]);
    check(
        &index,
        &Query {
            risks: vec![SocialRisk::Education],
            ..Query::text("mensa")
        },
        &[],
    );
    check(
        &index,
        &Query {
            zones: vec!["Z9".into()],
            ..Query::text("mensa")
        },
        &[],
    );
    let empty = SearchIndex::build(&Registry::open_in_memory().unwrap()).unwrap();
    assert!(empty.is_empty());
    assert!(empty.search(&Query::text("mensa")).is_empty());
    assert!(empty.search(&Query::default()).is_empty());
    assert!(empty.suggest("men", 5).is_empty());
}

#[test]
fn suggestions_complete_names_labels_and_words() {
    let index = index();
    assert_eq!(index.suggest("dop", 5), ["Doposcuola"]);
    assert_eq!(
        index.suggest("anz", 5),
        ["anziani", "Assistenza domiciliare anziani"]
    );
    assert_eq!(index.suggest("Centro d", 5), ["Centro di ascolto"]);
    assert_eq!(index.suggest("non auto", 5), ["Non autosufficienza"]);
    assert!(
        index
            .suggest("senza", 5)
            .contains(&"Persone senza dimora".to_string())
    );
    assert_eq!(index.suggest("disabi", 5), Vec::<String>::new());
    assert_eq!(index.suggest("", 5), Vec::<String>::new());
    assert_eq!(index.suggest("a", 2).len(), 2);
}
