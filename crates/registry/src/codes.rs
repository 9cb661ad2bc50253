//! The fixed code lists of the model: kinds of organization, service status, the social-risk
//! taxonomy and target groups (with their HSDS taxonomy terms), operator profiles and kinds of
//! contract.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{Taxonomy, TaxonomyTerm};

macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant),+
        }

        impl $name {
            /// Every code, in the list's order.
            pub const CODES: &'static [&'static str] = &[$($code),+];
            /// Every value, in the list's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code stored and exchanged.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// The value of a code.
            pub fn from_code(code: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.code() == code)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

codes! {
    /// Who runs an organization.
    OrganizationKind {
        /// A public body (municipality, health authority, public agency).
        PublicBody = "public_body",
        /// A third-sector body (cooperativa sociale, association, foundation, ODV, APS).
        ThirdSector = "third_sector",
        /// A for-profit company.
        ForProfit = "for_profit",
    }
}

codes! {
    /// The status of a service (HSDS `service.status`) or of an organization.
    #[derive(Default)]
    Status {
        #[default]
        Active = "active",
        Inactive = "inactive",
        Defunct = "defunct",
        TemporarilyClosed = "temporarily closed",
    }
}

codes! {
    /// The social risks a service addresses: the lab's fixed taxonomy.
    SocialRisk {
        Poverty = "poverty",
        Disability = "disability",
        NonSelfSufficiency = "non_self_sufficiency",
        Housing = "housing",
        Childcare = "childcare",
        Work = "work",
        Migration = "migration",
        Health = "health",
        Education = "education",
    }
}

codes! {
    /// The people a service is meant for (its eligibility).
    TargetGroup {
        Elderly = "elderly",
        Minors = "minors",
        Families = "families",
        Disabled = "disabled",
        Migrants = "migrants",
        Homeless = "homeless",
        Unemployed = "unemployed",
        Women = "women",
        Youth = "youth",
        All = "all",
    }
}

codes! {
    /// The professional profile of operators.
    #[derive(Default)]
    OperatorProfile {
        SocialWorker = "social_worker",
        Educator = "educator",
        /// Operatore socio-sanitario.
        OssCareWorker = "oss_care_worker",
        Psychologist = "psychologist",
        Nurse = "nurse",
        Administrative = "administrative",
        Volunteer = "volunteer",
        #[default]
        Other = "other",
    }
}

codes! {
    /// The kind of a contract or relation between two organizations.
    #[derive(Default)]
    RelationKind {
        /// A public procurement (appalto).
        Procurement = "procurement",
        /// An accreditation (accreditamento).
        Accreditation = "accreditation",
        /// A co-design agreement (co-progettazione, art. 55 of the third-sector code).
        CoDesignAgreement = "co_design_agreement",
        /// A grant (contributo).
        Grant = "grant",
        /// Any other agreement (convenzione, protocollo d'intesa).
        #[default]
        Agreement = "agreement",
    }
}

codes! {
    /// HSDS `location.location_type` and `address.address_type`.
    #[derive(Default)]
    LocationType {
        #[default]
        Physical = "physical",
        Postal = "postal",
        Virtual = "virtual",
    }
}

codes! {
    /// The kind of object an HSDS attribute describes (`attribute.link_entity`).
    #[derive(Default)]
    LinkEntity {
        #[default]
        Service = "service",
        Organization = "organization",
        Location = "location",
        ServiceAtLocation = "service_at_location",
    }
}

impl LinkEntity {
    /// The table of the linked object.
    pub fn table(self) -> &'static str {
        match self {
            LinkEntity::Service => "services",
            LinkEntity::Organization => "organizations",
            LinkEntity::Location => "locations",
            LinkEntity::ServiceAtLocation => "service_at_locations",
        }
    }
}

/// HSDS `schedule.freq` values.
pub const FREQUENCIES: &[&str] = &["WEEKLY", "MONTHLY"];
/// iCal weekday codes, Monday first.
pub const WEEKDAYS: &[&str] = &["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
/// RFC 6350 phone types used by HSDS `phone.type`.
pub const PHONE_TYPES: &[&str] = &[
    "text",
    "voice",
    "fax",
    "cell",
    "video",
    "pager",
    "textphone",
];
/// HSDS `service_area.extent_type` values.
pub const EXTENT_TYPES: &[&str] = &["geojson", "topojson", "kml", "text"];

/// The id of the HSDS taxonomy of social risks.
pub const SOCIAL_RISK_TAXONOMY: &str = "datalab-social-risk";
/// The id of the HSDS taxonomy of target groups.
pub const TARGET_GROUP_TAXONOMY: &str = "datalab-target-group";

impl SocialRisk {
    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            SocialRisk::Poverty => "Poverty and material deprivation",
            SocialRisk::Disability => "Disability",
            SocialRisk::NonSelfSufficiency => "Loss of self-sufficiency",
            SocialRisk::Housing => "Housing",
            SocialRisk::Childcare => "Childcare and parenting",
            SocialRisk::Work => "Work and employment",
            SocialRisk::Migration => "Migration and inclusion",
            SocialRisk::Health => "Health",
            SocialRisk::Education => "Education",
        }
    }

    /// The Italian label.
    pub fn label_it(self) -> &'static str {
        match self {
            SocialRisk::Poverty => "Povertà e deprivazione materiale",
            SocialRisk::Disability => "Disabilità",
            SocialRisk::NonSelfSufficiency => "Non autosufficienza",
            SocialRisk::Housing => "Casa",
            SocialRisk::Childcare => "Infanzia e genitorialità",
            SocialRisk::Work => "Lavoro",
            SocialRisk::Migration => "Migrazione e inclusione",
            SocialRisk::Health => "Salute",
            SocialRisk::Education => "Istruzione",
        }
    }

    /// Italian words people use for the risk beyond its label, indexed by the search so that
    /// "stranieri" finds services for migration and "alloggio" finds housing.
    pub fn search_terms_it(self) -> &'static str {
        match self {
            SocialRisk::Poverty => "indigenza, sostegno al reddito, aiuti economici",
            SocialRisk::Disability => "disabili, handicap",
            SocialRisk::NonSelfSufficiency => "non autosufficienti, cura, caregiver",
            SocialRisk::Housing => "abitazione, alloggio, emergenza abitativa",
            SocialRisk::Childcare => "bambini, genitori",
            SocialRisk::Work => "occupazione, impiego, inserimento lavorativo",
            SocialRisk::Migration => "stranieri, immigrati, rifugiati, richiedenti asilo",
            SocialRisk::Health => "sanità, cure",
            SocialRisk::Education => "scuola, studio, formazione",
        }
    }

    /// The id of its HSDS taxonomy term.
    pub fn term_id(self) -> String {
        format!("{SOCIAL_RISK_TAXONOMY}:{}", self.code())
    }
}

impl TargetGroup {
    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            TargetGroup::Elderly => "Elderly people",
            TargetGroup::Minors => "Minors",
            TargetGroup::Families => "Families",
            TargetGroup::Disabled => "People with disabilities",
            TargetGroup::Migrants => "Migrants",
            TargetGroup::Homeless => "Homeless people",
            TargetGroup::Unemployed => "Unemployed people",
            TargetGroup::Women => "Women",
            TargetGroup::Youth => "Young people",
            TargetGroup::All => "Everyone",
        }
    }

    /// The Italian label.
    pub fn label_it(self) -> &'static str {
        match self {
            TargetGroup::Elderly => "Anziani",
            TargetGroup::Minors => "Minori",
            TargetGroup::Families => "Famiglie",
            TargetGroup::Disabled => "Persone con disabilità",
            TargetGroup::Migrants => "Migranti",
            TargetGroup::Homeless => "Persone senza dimora",
            TargetGroup::Unemployed => "Disoccupati",
            TargetGroup::Women => "Donne",
            TargetGroup::Youth => "Giovani",
            TargetGroup::All => "Tutti",
        }
    }

    /// Italian words people use for the group beyond its label, indexed by the search.
    pub fn search_terms_it(self) -> &'static str {
        match self {
            TargetGroup::Elderly => "terza età",
            TargetGroup::Minors => "minorenni, bambini, ragazzi",
            TargetGroup::Families => "famiglia, genitori",
            TargetGroup::Disabled => "disabili",
            TargetGroup::Migrants => "stranieri, immigrati",
            TargetGroup::Homeless => "senza fissa dimora, senzatetto",
            TargetGroup::Unemployed => "disoccupazione, in cerca di lavoro",
            TargetGroup::Women => "donna",
            TargetGroup::Youth => "ragazzi, adolescenti",
            TargetGroup::All => "",
        }
    }

    /// The id of its HSDS taxonomy term.
    pub fn term_id(self) -> String {
        format!("{TARGET_GROUP_TAXONOMY}:{}", self.code())
    }
}

/// The two taxonomies every registry holds.
pub fn fixed_taxonomies() -> Vec<Taxonomy> {
    vec![
        Taxonomy {
            id: SOCIAL_RISK_TAXONOMY.into(),
            name: "datalab social risks".into(),
            description: "The social risks a welfare service addresses (datalab's fixed list)"
                .into(),
            uri: None,
            version: Some("1".into()),
        },
        Taxonomy {
            id: TARGET_GROUP_TAXONOMY.into(),
            name: "datalab target groups".into(),
            description: "The people a welfare service is meant for (datalab's fixed list)".into(),
            uri: None,
            version: Some("1".into()),
        },
    ]
}

/// The taxonomy terms of the social risks and target groups.
pub fn fixed_terms() -> Vec<TaxonomyTerm> {
    let risks = SocialRisk::ALL.iter().map(|r| TaxonomyTerm {
        id: r.term_id(),
        code: Some(r.code().into()),
        name: r.label_en().into(),
        description: format!("{} (it: {})", r.label_en(), r.label_it()),
        taxonomy: Some("datalab social risks".into()),
        language: Some("en".into()),
        taxonomy_id: Some(SOCIAL_RISK_TAXONOMY.into()),
        ..TaxonomyTerm::default()
    });
    let groups = TargetGroup::ALL.iter().map(|g| TaxonomyTerm {
        id: g.term_id(),
        code: Some(g.code().into()),
        name: g.label_en().into(),
        description: format!("{} (it: {})", g.label_en(), g.label_it()),
        taxonomy: Some("datalab target groups".into()),
        language: Some("en".into()),
        taxonomy_id: Some(TARGET_GROUP_TAXONOMY.into()),
        ..TaxonomyTerm::default()
    });
    risks.chain(groups).collect()
}

/// What a fixed taxonomy term stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FixedTerm {
    Risk(SocialRisk),
    Group(TargetGroup),
}

/// Recognizes the id of a fixed taxonomy term.
pub(crate) fn fixed_term(term_id: &str) -> Option<FixedTerm> {
    if let Some(code) = term_id
        .strip_prefix(SOCIAL_RISK_TAXONOMY)
        .and_then(|r| r.strip_prefix(':'))
    {
        return SocialRisk::from_code(code).map(FixedTerm::Risk);
    }
    let code = term_id
        .strip_prefix(TARGET_GROUP_TAXONOMY)
        .and_then(|r| r.strip_prefix(':'))?;
    TargetGroup::from_code(code).map(FixedTerm::Group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_serde() {
        for s in Status::ALL {
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.code()));
            assert_eq!(serde_json::from_str::<Status>(&json).unwrap(), *s);
        }
        assert_eq!(
            Status::from_code("temporarily closed"),
            Some(Status::TemporarilyClosed)
        );
        assert_eq!(
            RelationKind::CoDesignAgreement.code(),
            "co_design_agreement"
        );
    }

    #[test]
    fn fixed_terms_are_recognized() {
        let terms = fixed_terms();
        assert_eq!(terms.len(), SocialRisk::ALL.len() + TargetGroup::ALL.len());
        assert_eq!(
            fixed_term(&terms[0].id),
            Some(FixedTerm::Risk(SocialRisk::Poverty))
        );
        assert_eq!(
            fixed_term("datalab-target-group:homeless"),
            Some(FixedTerm::Group(TargetGroup::Homeless))
        );
        assert_eq!(fixed_term("datalab-target-group:aliens"), None);
        assert_eq!(fixed_term("open-eligibility:food"), None);
    }
}
