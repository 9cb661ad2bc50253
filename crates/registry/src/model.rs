//! The registry's objects: HSDS 3.0 objects (field names as in the specification) and the
//! city's extensions (operators, capacity, contracts and relations).
//!
//! Every struct is a [`Record`]: its table, columns and rules are declared here. Field names are
//! the SQL column names; the HSDS name of a column is the same unless its [`Column`] says
//! otherwise (renamed, or an extension shown as `x_<name>`).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::codes::{
    EXTENT_TYPES, FREQUENCIES, LinkEntity, LocationType, OperatorProfile, OrganizationKind,
    PHONE_TYPES, RelationKind, SocialRisk, Status, TargetGroup, WEEKDAYS,
};
use crate::record::{ColType, Column, Invalid, Record, Sealed, TableDef};

const fn code(name: &'static str, codes: &'static [&'static str]) -> Column {
    Column::new(name, ColType::Code(codes))
}
const fn date(name: &'static str) -> Column {
    Column::new(name, ColType::Date)
}
const fn real(name: &'static str) -> Column {
    Column::new(name, ColType::Real)
}
const fn count(name: &'static str) -> Column {
    Column::new(name, ColType::Count)
}
const fn id() -> Column {
    Column::text("id").required()
}

// ---------------------------------------------------------------------------------------------
// organizations

/// A body that provides or commissions services (HSDS `organization`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub name: String,
    /// Public body, third sector or for profit (extension `x_kind`).
    pub kind: Option<OrganizationKind>,
    /// The legal form, e.g. "cooperativa sociale di tipo A" (HSDS `legal_status`).
    pub legal_form: Option<String>,
    /// Codice fiscale or partita IVA; used to find duplicates.
    pub tax_id: Option<String>,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub year_incorporated: Option<i64>,
    pub parent_organization_id: Option<String>,
    /// Where its registered office is (ISTAT code or name; extension `x_municipality`).
    pub municipality: Option<String>,
    /// Extension `x_status`.
    #[serde(default)]
    pub status: Status,
    /// When someone last checked this record (extension `x_verified_at`).
    pub verified_at: Option<NaiveDate>,
}

pub(crate) const ORGANIZATIONS: TableDef = TableDef {
    table: "organizations",
    object: "organization",
    hsds_path: "organizations.csv",
    columns: &[
        id(),
        Column::text("name").required(),
        code("kind", OrganizationKind::CODES).ext(),
        Column::text("legal_form").hsds_as("legal_status"),
        Column::text("tax_id"),
        Column::text("alternate_name"),
        Column::text("description"),
        Column::text("email"),
        Column::text("website"),
        Column::new("year_incorporated", ColType::Integer),
        Column::text("parent_organization_id").refers("organizations"),
        Column::text("municipality").ext(),
        code("status", Status::CODES)
            .required()
            .default("active")
            .ext(),
        date("verified_at").ext(),
    ],
};

impl Sealed for Organization {}
impl Record for Organization {
    const DEF: &'static TableDef = &ORGANIZATIONS;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        if let Some(year) = self.year_incorporated
            && !(1000..=9999).contains(&year)
        {
            return Err(Invalid::new(
                "year_incorporated",
                format!("expected a four-digit year, found {year}"),
            ));
        }
        if let Some(tax_id) = &self.tax_id
            && !tax_id.is_empty()
            && normalize_tax_id(tax_id).is_none()
        {
            return Err(Invalid::new(
                "tax_id",
                format!(
                    "expected a partita IVA (11 digits) or a codice fiscale (16 letters and digits), found `{tax_id}`"
                ),
            ));
        }
        if self.parent_organization_id.as_deref() == Some(self.id.as_str()) {
            return Err(Invalid::new(
                "parent_organization_id",
                "an organization cannot be its own parent",
            ));
        }
        Ok(())
    }
}

/// The comparable form of a codice fiscale or partita IVA: upper case, without spaces, dots,
/// dashes or a leading `IT` country prefix; `None` if it is neither shape.
pub fn normalize_tax_id(tax_id: &str) -> Option<String> {
    let mut s: String = tax_id
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '/'))
        .collect::<String>()
        .to_uppercase();
    if s.len() == 13 && s.starts_with("IT") && s[2..].bytes().all(|b| b.is_ascii_digit()) {
        s.drain(..2);
    }
    let ok = (s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit()))
        || (s.len() == 16 && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    ok.then_some(s)
}

/// A third-party identifier of an organization (HSDS `organization_identifier`), e.g. its
/// number in the RUNTS (third-sector register) or in the chamber of commerce.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrganizationIdentifier {
    pub id: String,
    pub organization_id: String,
    /// The org-id.guide scheme, e.g. `IT-CF`.
    pub identifier_scheme: Option<String>,
    pub identifier_type: String,
    pub identifier: String,
}

pub(crate) const ORGANIZATION_IDENTIFIERS: TableDef = TableDef {
    table: "organization_identifiers",
    object: "organization_identifier",
    hsds_path: "organization_identifiers.csv",
    columns: &[
        id(),
        Column::text("organization_id")
            .required()
            .refers("organizations"),
        Column::text("identifier_scheme"),
        Column::text("identifier_type").required(),
        Column::text("identifier").required(),
    ],
};

impl Sealed for OrganizationIdentifier {}
impl Record for OrganizationIdentifier {
    const DEF: &'static TableDef = &ORGANIZATION_IDENTIFIERS;
    fn id(&self) -> &str {
        &self.id
    }
}

// ---------------------------------------------------------------------------------------------
// services

/// A service an organization provides (HSDS `service`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub status: Status,
    pub interpretation_services: Option<String>,
    pub application_process: Option<String>,
    pub fees_description: Option<String>,
    pub accreditations: Option<String>,
    pub eligibility_description: Option<String>,
    pub minimum_age: Option<u32>,
    pub maximum_age: Option<u32>,
    /// When the information was last checked: the service's verification date.
    pub assured_date: Option<NaiveDate>,
    pub assurer_email: Option<String>,
    pub alert: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
    /// The social risks it addresses, one or more (HSDS `attributes` with the
    /// `datalab-social-risk` taxonomy).
    #[serde(default)]
    pub risks: Vec<SocialRisk>,
    /// Who it is for (HSDS `attributes` with the `datalab-target-group` taxonomy).
    #[serde(default)]
    pub target_groups: Vec<TargetGroup>,
    /// Whether it is free for its users (extension `x_free`); prices are in cost options.
    pub free: Option<bool>,
}

pub(crate) const SERVICES: TableDef = TableDef {
    table: "services",
    object: "service",
    hsds_path: "services.csv",
    columns: &[
        id(),
        Column::text("organization_id")
            .required()
            .refers("organizations"),
        Column::text("name").required(),
        Column::text("alternate_name"),
        Column::text("description"),
        Column::text("url"),
        Column::text("email"),
        code("status", Status::CODES).required().default("active"),
        Column::text("interpretation_services"),
        Column::text("application_process"),
        Column::text("fees_description"),
        Column::text("accreditations"),
        Column::text("eligibility_description"),
        count("minimum_age"),
        count("maximum_age"),
        date("assured_date"),
        Column::text("assurer_email"),
        Column::text("alert"),
        Column::new("last_modified", ColType::DateTime),
        Column::new("risks", ColType::Codes(SocialRisk::CODES))
            .required()
            .not_hsds(),
        Column::new("target_groups", ColType::Codes(TargetGroup::CODES)).not_hsds(),
        Column::new("free", ColType::Bool).ext(),
    ],
};

impl Sealed for Service {}
impl Record for Service {
    const DEF: &'static TableDef = &SERVICES;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        if self.risks.is_empty() {
            return Err(Invalid::new(
                "risks",
                "at least one social-risk code is required",
            ));
        }
        for (field, age) in [
            ("minimum_age", self.minimum_age),
            ("maximum_age", self.maximum_age),
        ] {
            if let Some(age) = age
                && age > 130
            {
                return Err(Invalid::new(field, format!("{age} is not an age")));
            }
        }
        if let (Some(min), Some(max)) = (self.minimum_age, self.maximum_age)
            && min > max
        {
            return Err(Invalid::new(
                "maximum_age",
                format!("{max} is below minimum_age {min}"),
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// locations

/// A place where services are delivered (HSDS `location`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub id: String,
    #[serde(default)]
    pub location_type: LocationType,
    pub url: Option<String>,
    pub organization_id: Option<String>,
    pub name: Option<String>,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub transportation: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub external_identifier: Option<String>,
    pub external_identifier_type: Option<String>,
    /// The municipality (ISTAT code or name; extension `x_municipality`).
    pub municipality: Option<String>,
    /// The statistical zone code (extension `x_zone`), to place supply on the territory.
    pub zone: Option<String>,
}

pub(crate) const LOCATIONS: TableDef = TableDef {
    table: "locations",
    object: "location",
    hsds_path: "locations.csv",
    columns: &[
        id(),
        code("location_type", LocationType::CODES)
            .required()
            .default("physical"),
        Column::text("url"),
        Column::text("organization_id").refers("organizations"),
        Column::text("name"),
        Column::text("alternate_name"),
        Column::text("description"),
        Column::text("transportation"),
        real("latitude"),
        real("longitude"),
        Column::text("external_identifier"),
        Column::text("external_identifier_type"),
        Column::text("municipality").ext(),
        Column::text("zone").ext(),
    ],
};

impl Sealed for Location {}
impl Record for Location {
    const DEF: &'static TableDef = &LOCATIONS;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        match (self.latitude, self.longitude) {
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    return Err(Invalid::new("latitude", format!("{lat} is out of range")));
                }
                if !(-180.0..=180.0).contains(&lon) {
                    return Err(Invalid::new("longitude", format!("{lon} is out of range")));
                }
                Ok(())
            }
            (None, None) => Ok(()),
            (Some(_), None) => Err(Invalid::new(
                "longitude",
                "latitude given without longitude",
            )),
            (None, Some(_)) => Err(Invalid::new("latitude", "longitude given without latitude")),
        }
    }
}

/// The address of a location (HSDS `address`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub id: String,
    pub location_id: String,
    pub attention: Option<String>,
    pub address_1: String,
    pub address_2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    /// The province (sigla, e.g. `BO`).
    pub state_province: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `IT`.
    pub country: String,
    #[serde(default)]
    pub address_type: LocationType,
}

pub(crate) const ADDRESSES: TableDef = TableDef {
    table: "addresses",
    object: "address",
    hsds_path: "addresses.csv",
    columns: &[
        id(),
        Column::text("location_id").required().refers("locations"),
        Column::text("attention"),
        Column::text("address_1").required(),
        Column::text("address_2"),
        Column::text("city").required(),
        Column::text("region"),
        Column::text("state_province").required(),
        Column::text("postal_code").required(),
        Column::text("country").required(),
        code("address_type", LocationType::CODES)
            .required()
            .default("physical"),
    ],
};

impl Sealed for Address {}
impl Record for Address {
    const DEF: &'static TableDef = &ADDRESSES;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        if self.country.len() != 2 || !self.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Invalid::new(
                "country",
                format!(
                    "expected a two-letter ISO 3166-1 code, found `{}`",
                    self.country
                ),
            ));
        }
        Ok(())
    }
}

/// A service delivered at a location (HSDS `service_at_location`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceAtLocation {
    pub id: String,
    pub service_id: String,
    pub location_id: String,
    pub description: Option<String>,
}

pub(crate) const SERVICE_AT_LOCATIONS: TableDef = TableDef {
    table: "service_at_locations",
    object: "service_at_location",
    hsds_path: "service_at_location.csv",
    columns: &[
        id(),
        Column::text("service_id").required().refers("services"),
        Column::text("location_id").required().refers("locations"),
        Column::text("description"),
    ],
};

impl Sealed for ServiceAtLocation {}
impl Record for ServiceAtLocation {
    const DEF: &'static TableDef = &SERVICE_AT_LOCATIONS;
    fn id(&self) -> &str {
        &self.id
    }
}

// ---------------------------------------------------------------------------------------------
// schedules, costs, funding, areas

/// When a service or location is open (HSDS `schedule`, RFC 5545 recurrence fields). See
/// [`Schedule::is_open_at`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub id: String,
    pub service_id: Option<String>,
    pub location_id: Option<String>,
    pub service_at_location_id: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub dtstart: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Week start, `MO`..`SU`.
    pub wkst: Option<String>,
    /// `WEEKLY` or `MONTHLY`.
    pub freq: Option<String>,
    pub interval: Option<u32>,
    /// Comma-separated days: `MO,TU`; with `MONTHLY`, `2MO` or `-1FR`.
    pub byday: Option<String>,
    /// Comma-separated days of the month, negative from the end: `1,15,-1`.
    pub bymonthday: Option<String>,
    pub description: Option<String>,
    /// Wall-clock time in the city.
    pub opens_at: Option<NaiveTime>,
    /// Wall-clock time in the city; before `opens_at` means the next day.
    pub closes_at: Option<NaiveTime>,
    pub attending_type: Option<String>,
    pub notes: Option<String>,
}

pub(crate) const SCHEDULES: TableDef = TableDef {
    table: "schedules",
    object: "schedule",
    hsds_path: "schedules.csv",
    columns: &[
        id(),
        Column::text("service_id").refers("services"),
        Column::text("location_id").refers("locations"),
        Column::text("service_at_location_id").refers("service_at_locations"),
        date("valid_from"),
        date("valid_to"),
        date("dtstart"),
        date("until"),
        code("wkst", WEEKDAYS),
        code("freq", FREQUENCIES),
        count("interval"),
        Column::text("byday"),
        Column::text("bymonthday"),
        Column::text("description"),
        Column::new("opens_at", ColType::Time),
        Column::new("closes_at", ColType::Time),
        Column::text("attending_type"),
        Column::text("notes"),
    ],
};

impl Sealed for Schedule {}
impl Record for Schedule {
    const DEF: &'static TableDef = &SCHEDULES;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        if self.service_id.is_none()
            && self.location_id.is_none()
            && self.service_at_location_id.is_none()
        {
            return Err(Invalid::new(
                "service_id",
                "a schedule belongs to a service, a location or a service at a location",
            ));
        }
        if self.opens_at.is_some() != self.closes_at.is_some() {
            let field = if self.opens_at.is_none() {
                "opens_at"
            } else {
                "closes_at"
            };
            return Err(Invalid::new(field, "opens_at and closes_at go together"));
        }
        if let (Some(from), Some(to)) = (self.valid_from, self.valid_to)
            && from > to
        {
            return Err(Invalid::new(
                "valid_to",
                format!("{to} is before valid_from {from}"),
            ));
        }
        if self.interval == Some(0) {
            return Err(Invalid::new("interval", "expected 1 or more"));
        }
        let monthly = self.freq.as_deref() == Some("MONTHLY");
        if let Some(byday) = &self.byday {
            for part in byday.split(',').map(str::trim) {
                match crate::schedule::parse_byday(part) {
                    Some((Some(_), _)) if !monthly => {
                        return Err(Invalid::new(
                            "byday",
                            format!("`{part}`: an occurrence number needs freq MONTHLY"),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        return Err(Invalid::new(
                            "byday",
                            format!("`{part}` is not a day (MO, TU, ..., SU, or e.g. 2MO, -1FR)"),
                        ));
                    }
                }
            }
        }
        if let Some(days) = &self.bymonthday {
            for part in days.split(',').map(str::trim) {
                match part.parse::<i32>() {
                    Ok(d) if d != 0 && (-31..=31).contains(&d) => {}
                    _ => {
                        return Err(Invalid::new(
                            "bymonthday",
                            format!("`{part}` is not a day of the month (1..31 or -31..-1)"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A price of a service (HSDS `cost_option`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CostOption {
    pub id: String,
    pub service_id: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// Conditions, e.g. "ISEE above 20,000 euro".
    pub option: Option<String>,
    /// ISO 4217, e.g. `EUR`.
    pub currency: Option<String>,
    pub amount: Option<f64>,
    /// E.g. "per month".
    pub amount_description: Option<String>,
}

pub(crate) const COST_OPTIONS: TableDef = TableDef {
    table: "cost_options",
    object: "cost_option",
    hsds_path: "cost_options.csv",
    columns: &[
        id(),
        Column::text("service_id").required().refers("services"),
        date("valid_from"),
        date("valid_to"),
        Column::text("option"),
        Column::text("currency"),
        real("amount"),
        Column::text("amount_description"),
    ],
};

impl Sealed for CostOption {}
impl Record for CostOption {
    const DEF: &'static TableDef = &COST_OPTIONS;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        if let Some(c) = &self.currency
            && (c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            return Err(Invalid::new(
                "currency",
                format!("expected a three-letter currency code, found `{c}`"),
            ));
        }
        if let Some(a) = self.amount
            && a < 0.0
        {
            return Err(Invalid::new("amount", format!("{a} is negative")));
        }
        if let (Some(from), Some(to)) = (self.valid_from, self.valid_to)
            && from > to
        {
            return Err(Invalid::new(
                "valid_to",
                format!("{to} is before valid_from {from}"),
            ));
        }
        Ok(())
    }
}

/// A source of money for an organization or a service (HSDS `funding`, with amount and year as
/// extensions).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Funding {
    pub id: String,
    pub organization_id: Option<String>,
    pub service_id: Option<String>,
    pub source: Option<String>,
    /// In euro (extension `x_amount`).
    pub amount: Option<f64>,
    /// Extension `x_year`.
    pub year: Option<i64>,
}

pub(crate) const FUNDING: TableDef = TableDef {
    table: "funding",
    object: "funding",
    hsds_path: "funding.csv",
    columns: &[
        id(),
        Column::text("organization_id").refers("organizations"),
        Column::text("service_id").refers("services"),
        Column::text("source"),
        real("amount").ext(),
        Column::new("year", ColType::Integer).ext(),
    ],
};

impl Sealed for Funding {}
impl Record for Funding {
    const DEF: &'static TableDef = &FUNDING;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        if self.organization_id.is_none() && self.service_id.is_none() {
            return Err(Invalid::new(
                "organization_id",
                "funding goes to an organization or a service",
            ));
        }
        if let Some(a) = self.amount
            && a < 0.0
        {
            return Err(Invalid::new("amount", format!("{a} is negative")));
        }
        if let Some(year) = self.year
            && !(1000..=9999).contains(&year)
        {
            return Err(Invalid::new(
                "year",
                format!("expected a four-digit year, found {year}"),
            ));
        }
        Ok(())
    }
}

/// The area a service covers (HSDS `service_area`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceArea {
    pub id: String,
    pub service_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub extent: Option<String>,
    /// `geojson`, `topojson`, `kml` or `text`.
    pub extent_type: Option<String>,
    pub uri: Option<String>,
}

pub(crate) const SERVICE_AREAS: TableDef = TableDef {
    table: "service_areas",
    object: "service_area",
    hsds_path: "service_areas.csv",
    columns: &[
        id(),
        Column::text("service_id").required().refers("services"),
        Column::text("name"),
        Column::text("description"),
        Column::text("extent"),
        code("extent_type", EXTENT_TYPES),
        Column::text("uri"),
    ],
};

impl Sealed for ServiceArea {}
impl Record for ServiceArea {
    const DEF: &'static TableDef = &SERVICE_AREAS;
    fn id(&self) -> &str {
        &self.id
    }
}

// ---------------------------------------------------------------------------------------------
// contacts and phones

/// A contact point (HSDS `contact`). Use roles ("Segreteria"), not private persons, where
/// possible.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: String,
    pub organization_id: Option<String>,
    pub service_id: Option<String>,
    pub service_at_location_id: Option<String>,
    pub location_id: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
}

pub(crate) const CONTACTS: TableDef = TableDef {
    table: "contacts",
    object: "contact",
    hsds_path: "contacts.csv",
    columns: &[
        id(),
        Column::text("organization_id").refers("organizations"),
        Column::text("service_id").refers("services"),
        Column::text("service_at_location_id").refers("service_at_locations"),
        Column::text("location_id").refers("locations"),
        Column::text("name"),
        Column::text("title"),
        Column::text("department"),
        Column::text("email"),
    ],
};

impl Sealed for Contact {}
impl Record for Contact {
    const DEF: &'static TableDef = &CONTACTS;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        if self.organization_id.is_none()
            && self.service_id.is_none()
            && self.service_at_location_id.is_none()
            && self.location_id.is_none()
        {
            return Err(Invalid::new(
                "organization_id",
                "a contact belongs to an organization, a service, a location or a service at a location",
            ));
        }
        Ok(())
    }
}

/// A phone number (HSDS `phone`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phone {
    pub id: String,
    pub location_id: Option<String>,
    pub service_id: Option<String>,
    pub organization_id: Option<String>,
    pub contact_id: Option<String>,
    pub service_at_location_id: Option<String>,
    pub number: String,
    pub extension: Option<i64>,
    /// RFC 6350 type: `voice`, `fax`, `cell`, `text`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub description: Option<String>,
}

pub(crate) const PHONES: TableDef = TableDef {
    table: "phones",
    object: "phone",
    hsds_path: "phones.csv",
    columns: &[
        id(),
        Column::text("location_id").refers("locations"),
        Column::text("service_id").refers("services"),
        Column::text("organization_id").refers("organizations"),
        Column::text("contact_id").refers("contacts"),
        Column::text("service_at_location_id").refers("service_at_locations"),
        Column::text("number").required(),
        Column::new("extension", ColType::Integer),
        code("type", PHONE_TYPES),
        Column::text("description"),
    ],
};

impl Sealed for Phone {}
impl Record for Phone {
    const DEF: &'static TableDef = &PHONES;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        if self.location_id.is_none()
            && self.service_id.is_none()
            && self.organization_id.is_none()
            && self.contact_id.is_none()
            && self.service_at_location_id.is_none()
        {
            return Err(Invalid::new(
                "organization_id",
                "a phone belongs to an organization, a service, a location, a service at a location or a contact",
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// taxonomies and attributes

/// A classification scheme (HSDS `taxonomy`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Taxonomy {
    pub id: String,
    pub name: String,
    pub description: String,
    pub uri: Option<String>,
    pub version: Option<String>,
}

pub(crate) const TAXONOMIES: TableDef = TableDef {
    table: "taxonomies",
    object: "taxonomy",
    hsds_path: "taxonomies.csv",
    columns: &[
        id(),
        Column::text("name").required(),
        Column::text("description").required(),
        Column::text("uri"),
        Column::text("version"),
    ],
};

impl Sealed for Taxonomy {}
impl Record for Taxonomy {
    const DEF: &'static TableDef = &TAXONOMIES;
    fn id(&self) -> &str {
        &self.id
    }
}

/// A term of a taxonomy (HSDS `taxonomy_term`). `parent_id` and `taxonomy_id` are kept as given
/// and not checked: HSDS JSON nests terms without their parents or taxonomies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaxonomyTerm {
    pub id: String,
    pub code: Option<String>,
    pub name: String,
    pub description: String,
    pub parent_id: Option<String>,
    pub taxonomy: Option<String>,
    pub language: Option<String>,
    pub taxonomy_id: Option<String>,
    pub term_uri: Option<String>,
}

pub(crate) const TAXONOMY_TERMS: TableDef = TableDef {
    table: "taxonomy_terms",
    object: "taxonomy_term",
    hsds_path: "taxonomy_terms.csv",
    columns: &[
        id(),
        Column::text("code"),
        Column::text("name").required(),
        Column::text("description").required(),
        Column::text("parent_id"),
        Column::text("taxonomy"),
        Column::text("language"),
        Column::text("taxonomy_id"),
        Column::text("term_uri"),
    ],
};

impl Sealed for TaxonomyTerm {}
impl Record for TaxonomyTerm {
    const DEF: &'static TableDef = &TAXONOMY_TERMS;
    fn id(&self) -> &str {
        &self.id
    }
}

/// A taxonomy term attached to an object (HSDS `attribute`). The service taxonomy of social
/// risks and target groups is kept in [`Service::risks`] and [`Service::target_groups`] and only
/// appears as attributes in the HSDS formats; this table holds every other attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub id: String,
    pub link_id: String,
    pub taxonomy_term_id: String,
    pub link_type: Option<String>,
    #[serde(default)]
    pub link_entity: LinkEntity,
    pub value: Option<String>,
}

pub(crate) const ATTRIBUTES: TableDef = TableDef {
    table: "attributes",
    object: "attribute",
    hsds_path: "attributes.csv",
    columns: &[
        id(),
        Column::text("link_id").required(),
        Column::text("taxonomy_term_id")
            .required()
            .refers("taxonomy_terms"),
        Column::text("link_type"),
        code("link_entity", LinkEntity::CODES).required(),
        Column::text("value"),
    ],
};

impl Sealed for Attribute {}
impl Record for Attribute {
    const DEF: &'static TableDef = &ATTRIBUTES;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        if crate::codes::fixed_term(&self.taxonomy_term_id).is_some() {
            return Err(Invalid::new(
                "taxonomy_term_id",
                "social risks and target groups are set on the service (risks, target_groups), not as attributes",
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// extensions

/// Staff working for an organization or on a service (extension `x_operator`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Operator {
    pub id: String,
    pub organization_id: Option<String>,
    pub service_id: Option<String>,
    pub profile: OperatorProfile,
    /// Head count.
    pub count: u32,
    /// Full-time equivalents.
    pub fte: Option<f64>,
    pub as_of: Option<NaiveDate>,
    pub note: Option<String>,
}

pub(crate) const OPERATORS: TableDef = TableDef {
    table: "operators",
    object: "x_operator",
    hsds_path: "x_operators.csv",
    columns: &[
        id(),
        Column::text("organization_id").refers("organizations"),
        Column::text("service_id").refers("services"),
        code("profile", OperatorProfile::CODES).required(),
        count("count").required(),
        real("fte"),
        date("as_of"),
        Column::text("note"),
    ],
};

impl Sealed for Operator {}
impl Record for Operator {
    const DEF: &'static TableDef = &OPERATORS;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        if self.organization_id.is_some() == self.service_id.is_some() {
            return Err(Invalid::new(
                "organization_id",
                "operators are counted for an organization or for a service (exactly one)",
            ));
        }
        if let Some(fte) = self.fte
            && fte < 0.0
        {
            return Err(Invalid::new("fte", format!("{fte} is negative")));
        }
        Ok(())
    }
}

/// Places and users of a service at a location on a date (extension `x_capacity`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub id: String,
    pub service_at_location_id: String,
    pub places: Option<u32>,
    pub current_users: Option<u32>,
    pub waiting_list: Option<u32>,
    pub as_of: NaiveDate,
}

pub(crate) const CAPACITIES: TableDef = TableDef {
    table: "capacities",
    object: "x_capacity",
    hsds_path: "x_capacities.csv",
    columns: &[
        id(),
        Column::text("service_at_location_id")
            .required()
            .refers("service_at_locations"),
        count("places"),
        count("current_users"),
        count("waiting_list"),
        date("as_of").required(),
    ],
};

impl Sealed for Capacity {}
impl Record for Capacity {
    const DEF: &'static TableDef = &CAPACITIES;
    fn id(&self) -> &str {
        &self.id
    }
}

/// A contract or relation between two organizations (extension `x_relation`): the
/// commissioner (usually a public body) and the provider, optionally for one service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub id: String,
    pub kind: RelationKind,
    pub commissioner_id: String,
    pub provider_id: String,
    pub service_id: Option<String>,
    /// Value in euro.
    pub value_eur: Option<f64>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// Contract reference, e.g. the CIG or the act number.
    pub reference: Option<String>,
    pub description: Option<String>,
}

pub(crate) const RELATIONS: TableDef = TableDef {
    table: "relations",
    object: "x_relation",
    hsds_path: "x_relations.csv",
    columns: &[
        id(),
        code("kind", RelationKind::CODES).required(),
        Column::text("commissioner_id")
            .required()
            .refers("organizations"),
        Column::text("provider_id")
            .required()
            .refers("organizations"),
        Column::text("service_id").refers("services"),
        real("value_eur"),
        date("start_date"),
        date("end_date"),
        Column::text("reference"),
        Column::text("description"),
    ],
};

impl Sealed for Relation {}
impl Record for Relation {
    const DEF: &'static TableDef = &RELATIONS;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), Invalid> {
        if self.commissioner_id == self.provider_id {
            return Err(Invalid::new(
                "provider_id",
                "the commissioner and the provider are the same organization",
            ));
        }
        if let Some(v) = self.value_eur
            && v < 0.0
        {
            return Err(Invalid::new("value_eur", format!("{v} is negative")));
        }
        if let (Some(start), Some(end)) = (self.start_date, self.end_date)
            && start > end
        {
            return Err(Invalid::new(
                "end_date",
                format!("{end} is before start_date {start}"),
            ));
        }
        Ok(())
    }
}

/// Every table, in dependency order (a table only refers to tables before it).
pub const TABLES: &[&TableDef] = &[
    &TAXONOMIES,
    &TAXONOMY_TERMS,
    &ORGANIZATIONS,
    &ORGANIZATION_IDENTIFIERS,
    &SERVICES,
    &LOCATIONS,
    &ADDRESSES,
    &SERVICE_AT_LOCATIONS,
    &SCHEDULES,
    &COST_OPTIONS,
    &FUNDING,
    &SERVICE_AREAS,
    &CONTACTS,
    &PHONES,
    &ATTRIBUTES,
    &OPERATORS,
    &CAPACITIES,
    &RELATIONS,
];

/// Checks a canonical row against the rules of its type.
pub(crate) fn check_row(def: &TableDef, row: &crate::record::Row) -> Result<(), Invalid> {
    fn go<T: Record>(row: &crate::record::Row) -> Result<(), Invalid> {
        crate::record::from_row::<T>(row)?.check()
    }
    match def.table {
        "taxonomies" => go::<Taxonomy>(row),
        "taxonomy_terms" => go::<TaxonomyTerm>(row),
        "organizations" => go::<Organization>(row),
        "organization_identifiers" => go::<OrganizationIdentifier>(row),
        "services" => go::<Service>(row),
        "locations" => go::<Location>(row),
        "addresses" => go::<Address>(row),
        "service_at_locations" => go::<ServiceAtLocation>(row),
        "schedules" => go::<Schedule>(row),
        "cost_options" => go::<CostOption>(row),
        "funding" => go::<Funding>(row),
        "service_areas" => go::<ServiceArea>(row),
        "contacts" => go::<Contact>(row),
        "phones" => go::<Phone>(row),
        "attributes" => go::<Attribute>(row),
        "operators" => go::<Operator>(row),
        "capacities" => go::<Capacity>(row),
        "relations" => go::<Relation>(row),
        other => Err(Invalid::new("(table)", format!("unknown table `{other}`"))),
    }
}

/// The table definition of a SQL table name.
pub fn table_def(table: &str) -> Option<&'static TableDef> {
    TABLES.iter().copied().find(|d| d.table == table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{from_row, to_row};

    /// The struct's serde fields are exactly the table's columns, and a record survives its row.
    fn check_shape<T: Record + PartialEq>(sample: T) {
        let value = serde_json::to_value(&sample).unwrap();
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut cols: Vec<&str> = T::DEF.columns.iter().map(|c| c.name).collect();
        keys.sort_unstable();
        cols.sort_unstable();
        assert_eq!(keys, cols, "{}", T::DEF.table);
        assert_eq!(T::DEF.columns[0].name, "id");
        let row = to_row(&sample).unwrap();
        let back: T = from_row(&row).unwrap();
        assert_eq!(back, sample, "{}", T::DEF.table);
    }

    #[test]
    fn every_struct_matches_its_table() {
        let fix = crate::testutil::fixture();
        check_shape(fix.organizations[1].clone());
        check_shape(fix.identifiers[0].clone());
        check_shape(fix.services[0].clone());
        check_shape(fix.locations[0].clone());
        check_shape(fix.addresses[0].clone());
        check_shape(fix.sals[0].clone());
        check_shape(fix.schedules[0].clone());
        check_shape(fix.cost_options[0].clone());
        check_shape(fix.funding[0].clone());
        check_shape(fix.areas[0].clone());
        check_shape(fix.contacts[0].clone());
        check_shape(fix.phones[0].clone());
        check_shape(crate::codes::fixed_taxonomies()[0].clone());
        check_shape(fix.terms[0].clone());
        check_shape(fix.attributes[0].clone());
        check_shape(fix.operators[0].clone());
        check_shape(fix.capacities[0].clone());
        check_shape(fix.relations[0].clone());
        assert_eq!(TABLES.len(), 18);
    }

    #[test]
    fn tables_only_refer_to_earlier_tables() {
        for (i, def) in TABLES.iter().enumerate() {
            for c in def.columns {
                if let Some(target) = c.refers {
                    let j = TABLES.iter().position(|d| d.table == target).unwrap();
                    assert!(
                        j < i || (j == i && target == "organizations"),
                        "{}.{} -> {target}",
                        def.table,
                        c.name
                    );
                }
            }
        }
    }

    fn invalid<T: Record>(record: T, field: &str) {
        let e = record.check().expect_err("should be invalid");
        assert_eq!(e.field, field, "{}", e.message);
    }

    #[test]
    fn rules_name_the_field() {
        let fix = crate::testutil::fixture();
        let mut org = fix.organizations[1].clone();
        org.tax_id = Some("12345".into());
        invalid(org.clone(), "tax_id");
        org.tax_id = Some("IT 0123456789 0".into());
        assert!(org.check().is_ok());
        org.year_incorporated = Some(19);
        invalid(org, "year_incorporated");

        let mut s = fix.services[0].clone();
        s.risks.clear();
        invalid(s.clone(), "risks");
        s.risks = vec![SocialRisk::Poverty];
        s.minimum_age = Some(65);
        s.maximum_age = Some(18);
        invalid(s, "maximum_age");

        let mut l = fix.locations[0].clone();
        l.longitude = None;
        invalid(l, "longitude");

        let mut sch = fix.schedules[0].clone();
        sch.byday = Some("MO,2TU".into());
        invalid(sch.clone(), "byday");
        sch.byday = Some("XX".into());
        invalid(sch.clone(), "byday");
        sch.byday = None;
        sch.closes_at = None;
        invalid(sch, "closes_at");

        let mut op = fix.operators[0].clone();
        op.service_id = Some("s1".into());
        op.organization_id = Some("o1".into());
        invalid(op, "organization_id");

        let mut rel = fix.relations[0].clone();
        rel.provider_id = rel.commissioner_id.clone();
        invalid(rel, "provider_id");

        let mut attr = fix.attributes[0].clone();
        attr.taxonomy_term_id = SocialRisk::Housing.term_id();
        invalid(attr, "taxonomy_term_id");
    }

    #[test]
    fn tax_ids_normalize() {
        assert_eq!(
            normalize_tax_id("it01234567890").as_deref(),
            Some("01234567890")
        );
        assert_eq!(
            normalize_tax_id("abcdef00a00z000x").as_deref(),
            Some("ABCDEF00A00Z000X")
        );
        assert_eq!(normalize_tax_id("0123"), None);
    }
}
