//! A small invented registry for the tests: a municipality, a social cooperative, a for-profit
//! company with its holding, a health authority, three services and everything around them.
//! No real person or organization.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::codes::{
    LinkEntity, LocationType, OperatorProfile, OrganizationKind, RelationKind, SocialRisk, Status,
    TargetGroup,
};
use crate::model::*;
use crate::store::Registry;

pub(crate) fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub(crate) fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

pub(crate) struct Fixture {
    pub organizations: Vec<Organization>,
    pub identifiers: Vec<OrganizationIdentifier>,
    pub services: Vec<Service>,
    pub locations: Vec<Location>,
    pub addresses: Vec<Address>,
    pub sals: Vec<ServiceAtLocation>,
    pub schedules: Vec<Schedule>,
    pub cost_options: Vec<CostOption>,
    pub funding: Vec<Funding>,
    pub areas: Vec<ServiceArea>,
    pub contacts: Vec<Contact>,
    pub phones: Vec<Phone>,
    pub terms: Vec<TaxonomyTerm>,
    pub attributes: Vec<Attribute>,
    pub operators: Vec<Operator>,
    pub capacities: Vec<Capacity>,
    pub relations: Vec<Relation>,
}

pub(crate) fn fixture() -> Fixture {
    let organizations = vec![
        Organization {
            id: "o-comune".into(),
            name: "Comune di Esempio".into(),
            kind: Some(OrganizationKind::PublicBody),
            legal_form: s("ente locale"),
            tax_id: s("80000010001"),
            description: s("The municipality; social services department"),
            website: s("https://comune.esempio.example"),
            municipality: s("Esempio"),
            verified_at: Some(day("2024-01-15")),
            ..Organization::default()
        },
        Organization {
            id: "o-faro".into(),
            name: "Il Faro Cooperativa Sociale Onlus".into(),
            kind: Some(OrganizationKind::ThirdSector),
            legal_form: s("cooperativa sociale di tipo A"),
            tax_id: s("IT01234567890"),
            alternate_name: s("Il Faro"),
            email: s("info@faro.example"),
            year_incorporated: Some(1998),
            municipality: s("Esempio"),
            verified_at: Some(day("2023-01-10")),
            ..Organization::default()
        },
        Organization {
            id: "o-holding".into(),
            name: "Gruppo Sole S.p.A.".into(),
            kind: Some(OrganizationKind::ForProfit),
            legal_form: s("società per azioni"),
            tax_id: s("09876543210"),
            municipality: s("Altrove"),
            ..Organization::default()
        },
        Organization {
            id: "o-sole".into(),
            name: "Il Sole S.r.l.".into(),
            kind: Some(OrganizationKind::ForProfit),
            legal_form: s("società a responsabilità limitata"),
            tax_id: s("01111111111"),
            parent_organization_id: s("o-holding"),
            municipality: s("Esempio"),
            status: Status::Active,
            verified_at: Some(day("2024-02-20")),
            ..Organization::default()
        },
        Organization {
            id: "o-asl".into(),
            name: "Azienda Sanitaria di Esempio".into(),
            kind: Some(OrganizationKind::PublicBody),
            legal_form: s("azienda sanitaria locale"),
            municipality: s("Esempio"),
            verified_at: Some(day("2024-02-01")),
            ..Organization::default()
        },
    ];
    let identifiers = vec![
        OrganizationIdentifier {
            id: "id-faro-runts".into(),
            organization_id: "o-faro".into(),
            identifier_scheme: s("IT-RUNTS"),
            identifier_type: "RUNTS number".into(),
            identifier: "000123".into(),
        },
        OrganizationIdentifier {
            id: "id-holding-rea".into(),
            organization_id: "o-holding".into(),
            identifier_scheme: None,
            identifier_type: "REA".into(),
            identifier: "XX-000001".into(),
        },
    ];
    let services = vec![
        Service {
            id: "s-segretariato".into(),
            organization_id: "o-comune".into(),
            name: "Segretariato sociale".into(),
            description: s("First contact point for social services, \"porta unica\""),
            risks: vec![SocialRisk::Poverty, SocialRisk::Housing],
            target_groups: vec![TargetGroup::All],
            free: Some(true),
            assured_date: Some(day("2024-01-15")),
            last_modified: Some(ts("2024-01-15T10:30:00.250Z")),
            ..Service::default()
        },
        Service {
            id: "s-day-centre".into(),
            organization_id: "o-faro".into(),
            name: "Centro diurno per anziani".into(),
            eligibility_description: s("Residents aged 65 or more, partly self-sufficient"),
            minimum_age: Some(65),
            risks: vec![SocialRisk::NonSelfSufficiency],
            target_groups: vec![TargetGroup::Elderly],
            free: Some(false),
            fees_description: s("Monthly fee by ISEE band"),
            assured_date: Some(day("2022-05-01")),
            ..Service::default()
        },
        Service {
            id: "s-shelter".into(),
            organization_id: "o-sole".into(),
            name: "Accoglienza notturna".into(),
            status: Status::Active,
            risks: vec![SocialRisk::Housing, SocialRisk::Poverty],
            target_groups: vec![TargetGroup::Homeless],
            minimum_age: Some(18),
            maximum_age: Some(120),
            ..Service::default()
        },
    ];
    let location = |id: &str, org: &str, name: &str, lat: f64, lon: f64, zone: &str| Location {
        id: id.into(),
        location_type: LocationType::Physical,
        organization_id: s(org),
        name: s(name),
        latitude: Some(lat),
        longitude: Some(lon),
        municipality: s("Esempio"),
        zone: s(zone),
        ..Location::default()
    };
    let locations = vec![
        location(
            "l-municipio",
            "o-comune",
            "Municipio",
            44.4938,
            11.3426,
            "Z01",
        ),
        location("l-faro", "o-faro", "Sede Il Faro", 44.5, 11.35, "Z02"),
        location("l-sole", "o-sole", "Dormitorio", 44.48731, 11.3, "Z03"),
    ];
    let address = |id: &str, loc: &str, street: &str| Address {
        id: id.into(),
        location_id: loc.into(),
        address_1: street.into(),
        city: "Esempio".into(),
        state_province: "EE".into(),
        postal_code: "00100".into(),
        country: "IT".into(),
        address_type: LocationType::Physical,
        ..Address::default()
    };
    let addresses = vec![
        address("a-municipio", "l-municipio", "Piazza Grande 1"),
        address("a-faro", "l-faro", "Via del Porto 10"),
        address("a-sole", "l-sole", "Via Levante 3, interno 2"),
    ];
    let sal = |id: &str, service: &str, loc: &str| ServiceAtLocation {
        id: id.into(),
        service_id: service.into(),
        location_id: loc.into(),
        description: None,
    };
    let sals = vec![
        sal("sal-day", "s-day-centre", "l-faro"),
        sal("sal-segretariato", "s-segretariato", "l-municipio"),
        sal("sal-shelter", "s-shelter", "l-sole"),
    ];
    let schedules = vec![
        Schedule {
            id: "sch-day".into(),
            service_at_location_id: s("sal-day"),
            freq: s("WEEKLY"),
            byday: s("MO,TU,WE,TH,FR"),
            valid_from: Some(day("2024-01-01")),
            opens_at: time("08:30"),
            closes_at: time("17:00"),
            ..Schedule::default()
        },
        Schedule {
            id: "sch-municipio".into(),
            location_id: s("l-municipio"),
            freq: s("WEEKLY"),
            byday: s("MO,TU,WE,TH,FR"),
            opens_at: time("08:00"),
            closes_at: time("14:00"),
            ..Schedule::default()
        },
        Schedule {
            id: "sch-segretariato".into(),
            service_at_location_id: s("sal-segretariato"),
            freq: s("WEEKLY"),
            byday: s("MO,WE,FR"),
            opens_at: time("09:00"),
            closes_at: time("12:30"),
            description: s("Without appointment"),
            ..Schedule::default()
        },
        Schedule {
            id: "sch-shelter".into(),
            service_id: s("s-shelter"),
            opens_at: time("20:00"),
            closes_at: time("08:00"),
            notes: s("Every night"),
            ..Schedule::default()
        },
    ];
    let cost_options = vec![
        CostOption {
            id: "co-day-high".into(),
            service_id: "s-day-centre".into(),
            option: s("ISEE above 20,000 euro"),
            currency: s("EUR"),
            amount: Some(120.5),
            amount_description: s("per month"),
            valid_from: Some(day("2024-01-01")),
            valid_to: Some(day("2024-12-31")),
        },
        CostOption {
            id: "co-day-low".into(),
            service_id: "s-day-centre".into(),
            option: s("ISEE up to 20,000 euro"),
            currency: s("EUR"),
            amount: Some(0.0),
            ..CostOption::default()
        },
    ];
    let funding = vec![
        Funding {
            id: "f-faro".into(),
            organization_id: s("o-faro"),
            source: s("Fondo nazionale politiche sociali"),
            amount: Some(50000.0),
            year: Some(2024),
            ..Funding::default()
        },
        Funding {
            id: "f-shelter".into(),
            service_id: s("s-shelter"),
            source: s("Programma inclusione"),
            amount: Some(30000.75),
            year: Some(2023),
            ..Funding::default()
        },
    ];
    let areas = vec![ServiceArea {
        id: "sa-segretariato".into(),
        service_id: "s-segretariato".into(),
        name: s("Comune di Esempio"),
        extent_type: s("text"),
        extent: s("the whole municipality"),
        ..ServiceArea::default()
    }];
    let contacts = vec![
        Contact {
            id: "c-day".into(),
            service_id: s("s-day-centre"),
            name: s("Coordinamento"),
            email: s("diurno@faro.example"),
            ..Contact::default()
        },
        Contact {
            id: "c-faro".into(),
            organization_id: s("o-faro"),
            name: s("Segreteria"),
            title: s("Ufficio accoglienza"),
            ..Contact::default()
        },
    ];
    let phones = vec![
        Phone {
            id: "p-c-faro".into(),
            contact_id: s("c-faro"),
            number: "+39 000 000 0002".into(),
            kind: s("voice"),
            ..Phone::default()
        },
        Phone {
            id: "p-comune".into(),
            organization_id: s("o-comune"),
            number: "+39 000 000 0001".into(),
            extension: Some(12),
            kind: s("voice"),
            ..Phone::default()
        },
        Phone {
            id: "p-day".into(),
            service_id: s("s-day-centre"),
            number: "+39 000 000 0003".into(),
            ..Phone::default()
        },
        Phone {
            id: "p-municipio".into(),
            location_id: s("l-municipio"),
            number: "+39 000 000 0004".into(),
            kind: s("fax"),
            ..Phone::default()
        },
    ];
    let terms = vec![
        TaxonomyTerm {
            id: "oe-food".into(),
            code: s("food"),
            name: "Food".into(),
            description: "Food assistance".into(),
            taxonomy: s("Open Eligibility"),
            ..TaxonomyTerm::default()
        },
        TaxonomyTerm {
            id: "oe-wheelchair".into(),
            code: s("wheelchair"),
            name: "Wheelchair access".into(),
            description: "Accessible to wheelchair users".into(),
            parent_id: s("oe-accessibility"),
            ..TaxonomyTerm::default()
        },
    ];
    let attributes = vec![
        Attribute {
            id: "at-faro-wheelchair".into(),
            link_id: "l-faro".into(),
            link_entity: LinkEntity::Location,
            taxonomy_term_id: "oe-wheelchair".into(),
            ..Attribute::default()
        },
        Attribute {
            id: "at-shelter-food".into(),
            link_id: "s-shelter".into(),
            link_entity: LinkEntity::Service,
            taxonomy_term_id: "oe-food".into(),
            link_type: s("service_category"),
            value: s("evening meal"),
        },
    ];
    let operators = vec![
        Operator {
            id: "op-day-oss".into(),
            service_id: s("s-day-centre"),
            profile: OperatorProfile::OssCareWorker,
            count: 6,
            fte: Some(5.0),
            as_of: Some(day("2024-01-01")),
            ..Operator::default()
        },
        Operator {
            id: "op-faro-edu".into(),
            organization_id: s("o-faro"),
            profile: OperatorProfile::Educator,
            count: 12,
            fte: Some(10.5),
            as_of: Some(day("2024-01-01")),
            ..Operator::default()
        },
        Operator {
            id: "op-shelter-vol".into(),
            service_id: s("s-shelter"),
            profile: OperatorProfile::Volunteer,
            count: 20,
            note: s("evening shifts"),
            ..Operator::default()
        },
    ];
    let capacities = vec![
        Capacity {
            id: "cap-day".into(),
            service_at_location_id: "sal-day".into(),
            places: Some(30),
            current_users: Some(27),
            waiting_list: Some(8),
            as_of: day("2024-02-01"),
        },
        Capacity {
            id: "cap-shelter".into(),
            service_at_location_id: "sal-shelter".into(),
            places: Some(15),
            current_users: Some(15),
            waiting_list: Some(3),
            as_of: day("2024-02-01"),
        },
    ];
    let relations = vec![
        Relation {
            id: "r-accr".into(),
            kind: RelationKind::Accreditation,
            commissioner_id: "o-comune".into(),
            provider_id: "o-faro".into(),
            service_id: s("s-day-centre"),
            value_eur: Some(250000.0),
            start_date: Some(day("2023-01-01")),
            end_date: Some(day("2025-12-31")),
            reference: s("DD 123/2022"),
            ..Relation::default()
        },
        Relation {
            id: "r-asl".into(),
            kind: RelationKind::Agreement,
            commissioner_id: "o-asl".into(),
            provider_id: "o-faro".into(),
            description: s("Protocol on home care"),
            ..Relation::default()
        },
        Relation {
            id: "r-proc".into(),
            kind: RelationKind::Procurement,
            commissioner_id: "o-comune".into(),
            provider_id: "o-sole".into(),
            service_id: s("s-shelter"),
            value_eur: Some(98000.5),
            reference: s("CIG Z0000000AA"),
            ..Relation::default()
        },
        Relation {
            id: "r-codesign".into(),
            kind: RelationKind::CoDesignAgreement,
            commissioner_id: "o-comune".into(),
            provider_id: "o-faro".into(),
            start_date: Some(day("2024-01-01")),
            ..Relation::default()
        },
    ];
    Fixture {
        organizations,
        identifiers,
        services,
        locations,
        addresses,
        sals,
        schedules,
        cost_options,
        funding,
        areas,
        contacts,
        phones,
        terms,
        attributes,
        operators,
        capacities,
        relations,
    }
}

/// The fixture in an in-memory registry, written on 2024-03-01.
pub(crate) fn registry() -> Registry {
    let f = fixture();
    let mut reg = Registry::open_in_memory().unwrap();
    reg.edit_at("fixture", ts("2024-03-01T08:00:00Z"), |e| {
        // Parents before children.
        let mut orgs = f.organizations.clone();
        orgs.sort_by_key(|o| o.parent_organization_id.is_some());
        for r in &orgs {
            e.insert(r)?;
        }
        for r in &f.identifiers {
            e.insert(r)?;
        }
        for r in &f.services {
            e.insert(r)?;
        }
        for r in &f.locations {
            e.insert(r)?;
        }
        for r in &f.addresses {
            e.insert(r)?;
        }
        for r in &f.sals {
            e.insert(r)?;
        }
        for r in &f.schedules {
            e.insert(r)?;
        }
        for r in &f.cost_options {
            e.insert(r)?;
        }
        for r in &f.funding {
            e.insert(r)?;
        }
        for r in &f.areas {
            e.insert(r)?;
        }
        for r in &f.contacts {
            e.insert(r)?;
        }
        for r in &f.phones {
            e.insert(r)?;
        }
        for r in &f.terms {
            e.insert(r)?;
        }
        for r in &f.attributes {
            e.insert(r)?;
        }
        for r in &f.operators {
            e.insert(r)?;
        }
        for r in &f.capacities {
            e.insert(r)?;
        }
        for r in &f.relations {
            e.insert(r)?;
        }
        Ok(())
    })
    .unwrap();
    reg
}
