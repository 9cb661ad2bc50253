//! Supply on the map: where the registry's services are, with their capacity and staff, and how
//! they measure up to the people in need of each territory.
//!
//! [`Registry::supply`] lists the points of supply (one per service at a location) of the
//! services that address some social risks and target groups; [`needs_vs_supply`] joins them
//! with the people in need per zone (from the cube, passed in by the caller) into coverage, the
//! gap to a standard, supply per 1,000 people in need, and the zones that have need but no
//! service within reach (none in the zone and none within a distance of its centroid).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::codes::{SocialRisk, Status, TargetGroup};
use crate::{Capacity, Location, Operator, Registry, Result, Service, ServiceAtLocation};

/// Which services count as supply.
#[derive(Debug, Clone, Default)]
pub struct SupplyFilter {
    /// Services addressing any of these risks (all when empty).
    pub risks: Vec<SocialRisk>,
    /// Services for any of these target groups (all when empty; a service without target
    /// groups or for `all` is for everyone and always matches).
    pub target_groups: Vec<TargetGroup>,
    /// Capacity as recorded on or before this date (the latest record of each place); all
    /// records when `None`.
    pub as_of: Option<NaiveDate>,
}

/// One point of supply: an active service at a location.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupplyPoint {
    pub service_at_location_id: String,
    pub service_id: String,
    pub service: String,
    pub organization_id: String,
    pub zone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub places: Option<u32>,
    pub users: Option<u32>,
    pub waiting_list: Option<u32>,
    /// The service's operators attributed to this location: split by places when every
    /// location of the service has places, evenly otherwise.
    pub operators: f64,
    pub fte: f64,
}

impl Registry {
    /// The points of supply of active services matching `filter`, ordered by id.
    pub fn supply(&self, filter: &SupplyFilter) -> Result<Vec<SupplyPoint>> {
        let services: HashMap<String, Service> = self
            .list::<Service>()?
            .into_iter()
            .filter(|s| s.status == Status::Active)
            .filter(|s| filter.risks.is_empty() || s.risks.iter().any(|r| filter.risks.contains(r)))
            .filter(|s| {
                filter.target_groups.is_empty()
                    || s.target_groups.is_empty()
                    || s.target_groups.contains(&TargetGroup::All)
                    || s.target_groups
                        .iter()
                        .any(|t| filter.target_groups.contains(t))
            })
            .map(|s| (s.id.clone(), s))
            .collect();
        let locations: HashMap<String, Location> = self
            .list::<Location>()?
            .into_iter()
            .map(|l| (l.id.clone(), l))
            .collect();
        let mut capacity: HashMap<String, Capacity> = HashMap::new();
        for c in self.list::<Capacity>()? {
            if filter.as_of.is_some_and(|d| c.as_of > d) {
                continue;
            }
            let newer = capacity
                .get(&c.service_at_location_id)
                .is_none_or(|old| c.as_of >= old.as_of);
            if newer {
                capacity.insert(c.service_at_location_id.clone(), c);
            }
        }
        let mut staff: HashMap<String, (f64, f64)> = HashMap::new();
        for o in self.list::<Operator>()? {
            if let Some(s) = &o.service_id {
                let e = staff.entry(s.clone()).or_default();
                e.0 += f64::from(o.count);
                e.1 += o.fte.unwrap_or(0.0);
            }
        }
        let sals: Vec<ServiceAtLocation> = self
            .list::<ServiceAtLocation>()?
            .into_iter()
            .filter(|x| services.contains_key(&x.service_id))
            .collect();
        // how a service's staff is shared among its locations
        let mut per_service: BTreeMap<&str, Vec<Option<u32>>> = BTreeMap::new();
        for x in &sals {
            per_service
                .entry(x.service_id.as_str())
                .or_default()
                .push(capacity.get(&x.id).and_then(|c| c.places));
        }
        let mut out = Vec::with_capacity(sals.len());
        for x in &sals {
            let Some(s) = services.get(&x.service_id) else {
                continue;
            };
            let loc = locations.get(&x.location_id);
            let cap = capacity.get(&x.id);
            let places = cap.and_then(|c| c.places);
            let shares = &per_service[x.service_id.as_str()];
            let share = match (places, shares.iter().all(Option::is_some)) {
                (Some(p), true) => {
                    let total: u32 = shares.iter().flatten().sum();
                    if total > 0 {
                        f64::from(p) / f64::from(total)
                    } else {
                        1.0 / shares.len() as f64
                    }
                }
                _ => 1.0 / shares.len() as f64,
            };
            let (ops, fte) = staff.get(&s.id).copied().unwrap_or((0.0, 0.0));
            out.push(SupplyPoint {
                service_at_location_id: x.id.clone(),
                service_id: s.id.clone(),
                service: s.name.clone(),
                organization_id: s.organization_id.clone(),
                zone: loc.and_then(|l| l.zone.clone()),
                latitude: loc.and_then(|l| l.latitude),
                longitude: loc.and_then(|l| l.longitude),
                places,
                users: cap.and_then(|c| c.current_users),
                waiting_list: cap.and_then(|c| c.waiting_list),
                operators: ops * share,
                fte: fte * share,
            });
        }
        out.sort_by(|a, b| a.service_at_location_id.cmp(&b.service_at_location_id));
        Ok(out)
    }
}

impl Registry {
    /// The active services as the overlap analysis reads them
    /// ([`crate::network::service_overlaps`]): one row per service at a located zone, target
    /// group (`all` when none is given) and social risk (the taxonomy code, which is its own
    /// category).
    pub fn service_rows(&self) -> Result<Vec<crate::network::ServiceRow>> {
        let services: HashMap<String, Service> = self
            .list::<Service>()?
            .into_iter()
            .filter(|s| s.status == Status::Active)
            .map(|s| (s.id.clone(), s))
            .collect();
        let zones: HashMap<String, String> = self
            .list::<Location>()?
            .into_iter()
            .filter_map(|l| Some((l.id, l.zone?)))
            .collect();
        let mut rows = Vec::new();
        for x in self.list::<ServiceAtLocation>()? {
            let (Some(s), Some(zone)) = (services.get(&x.service_id), zones.get(&x.location_id))
            else {
                continue;
            };
            let groups: Vec<&str> = if s.target_groups.is_empty() {
                vec![TargetGroup::All.code()]
            } else {
                s.target_groups.iter().map(|t| t.code()).collect()
            };
            for g in groups {
                for r in &s.risks {
                    rows.push(crate::network::ServiceRow {
                        service_id: s.id.clone(),
                        organization_id: s.organization_id.clone(),
                        zone_code: zone.clone(),
                        target_group: g.to_string(),
                        taxonomy_code: r.code().to_string(),
                    });
                }
            }
        }
        rows.sort_by(|a, b| {
            (
                &a.zone_code,
                &a.service_id,
                &a.target_group,
                &a.taxonomy_code,
            )
                .cmp(&(
                    &b.zone_code,
                    &b.service_id,
                    &b.target_group,
                    &b.taxonomy_code,
                ))
        });
        rows.dedup();
        Ok(rows)
    }
}

/// The people in need of one zone, with the zone's centroid for distances.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneNeed {
    pub zone: String,
    pub in_need: f64,
    /// (latitude, longitude) of the zone's centroid.
    pub centroid: Option<(f64, f64)>,
}

/// Needs against supply in one zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneCoverage {
    pub zone: String,
    pub in_need: f64,
    /// Points of supply located in the zone.
    pub services: usize,
    pub places: f64,
    pub users: f64,
    pub waiting_list: f64,
    pub operators: f64,
    pub fte: f64,
    /// Places per 1,000 people in need (`None` without people in need).
    pub places_per_1000: Option<f64>,
    /// Operators per 1,000 people in need.
    pub operators_per_1000: Option<f64>,
    /// Places per person in need.
    pub coverage: Option<f64>,
    /// Places the standard asks for (`standard × in_need`).
    pub required: f64,
    /// Places missing to reach the standard (0 when it is reached).
    pub gap: f64,
    /// Distance from the zone's centroid to the nearest point of supply, in km (0 when one is
    /// in the zone; `None` when distances cannot be computed).
    pub nearest_km: Option<f64>,
    /// People in need and no point of supply in the zone or within reach of its centroid.
    pub unserved: bool,
}

/// Joins need and supply per zone: supply in each zone, coverage, the gap to `standard`
/// (places per person in need), the distance to the nearest point of supply, and whether a zone
/// with people in need has no service within `reach_km` of its centroid. Zones come out in the
/// order of `needs`; supply in zones without a need row is ignored.
pub fn needs_vs_supply(
    needs: &[ZoneNeed],
    points: &[SupplyPoint],
    standard: f64,
    reach_km: f64,
) -> Vec<ZoneCoverage> {
    needs
        .iter()
        .map(|n| {
            let here: Vec<&SupplyPoint> = points
                .iter()
                .filter(|p| p.zone.as_deref() == Some(n.zone.as_str()))
                .collect();
            let sum = |f: &dyn Fn(&SupplyPoint) -> f64| here.iter().map(|p| f(p)).sum::<f64>();
            let places = sum(&|p| p.places.map_or(0.0, f64::from));
            let operators = sum(&|p| p.operators);
            let per_1000 = |x: f64| (n.in_need > 0.0).then(|| x / n.in_need * 1000.0);
            let nearest_km = if !here.is_empty() {
                Some(0.0)
            } else {
                n.centroid.and_then(|c| {
                    points
                        .iter()
                        .filter_map(|p| Some(haversine_km(c, (p.latitude?, p.longitude?))))
                        .min_by(f64::total_cmp)
                })
            };
            let required = standard * n.in_need;
            ZoneCoverage {
                zone: n.zone.clone(),
                in_need: n.in_need,
                services: here.len(),
                places,
                users: sum(&|p| p.users.map_or(0.0, f64::from)),
                waiting_list: sum(&|p| p.waiting_list.map_or(0.0, f64::from)),
                operators,
                fte: sum(&|p| p.fte),
                places_per_1000: per_1000(places),
                operators_per_1000: per_1000(operators),
                coverage: (n.in_need > 0.0).then(|| places / n.in_need),
                required,
                gap: (required - places).max(0.0),
                nearest_km,
                unserved: n.in_need > 0.0 && nearest_km.is_none_or(|d| d > reach_km),
            }
        })
        .collect()
}

/// Great-circle distance in km between two (latitude, longitude) points (mean Earth radius
/// 6,371.0088 km, the IUGG value).
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1) = (a.0.to_radians(), a.1.to_radians());
    let (la2, lo2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0088 * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(id: &str, zone: &str, places: Option<u32>, at: (f64, f64), ops: f64) -> SupplyPoint {
        SupplyPoint {
            service_at_location_id: id.into(),
            service_id: format!("s-{id}"),
            service: "assistenza domiciliare".into(),
            organization_id: "o".into(),
            zone: Some(zone.into()),
            latitude: Some(at.0),
            longitude: Some(at.1),
            places,
            users: places.map(|p| p / 2),
            waiting_list: Some(1),
            operators: ops,
            fte: ops / 2.0,
        }
    }

    #[test]
    fn haversine_matches_a_known_distance() {
        // Modena (44.6471, 10.9252) to Bologna (44.4949, 11.3426): 37.14 km on the great
        // circle (computed independently with the same formula and radius in Python).
        let d = haversine_km((44.6471, 10.9252), (44.4949, 11.3426));
        assert!((d - 37.143).abs() < 0.001, "{d}");
        // one degree of latitude is 111.195 km on the mean sphere
        let one = haversine_km((0.0, 0.0), (1.0, 0.0));
        assert!((one - 111.195).abs() < 0.001, "{one}");
    }

    #[test]
    fn supply_points_come_from_services_locations_capacity_and_staff() {
        let reg = crate::testutil::registry();
        let housing = reg
            .supply(&SupplyFilter {
                risks: vec![SocialRisk::Housing],
                ..SupplyFilter::default()
            })
            .unwrap();
        let ids: Vec<&str> = housing
            .iter()
            .map(|p| p.service_at_location_id.as_str())
            .collect();
        assert_eq!(ids, ["sal-segretariato", "sal-shelter"]);
        let shelter = &housing[1];
        assert_eq!(shelter.zone.as_deref(), Some("Z03"));
        assert_eq!(
            (shelter.places, shelter.users, shelter.waiting_list),
            (Some(15), Some(15), Some(3))
        );
        assert_eq!(
            shelter.operators, 20.0,
            "its one location has all its staff"
        );

        let elderly = reg
            .supply(&SupplyFilter {
                target_groups: vec![TargetGroup::Elderly],
                ..SupplyFilter::default()
            })
            .unwrap();
        // the day centre, and the social secretariat for everyone
        assert_eq!(elderly.len(), 2);
        let day = elderly
            .iter()
            .find(|p| p.service_id == "s-day-centre")
            .unwrap();
        assert_eq!((day.operators, day.fte, day.places), (6.0, 5.0, Some(30)));

        let before = reg
            .supply(&SupplyFilter {
                as_of: NaiveDate::from_ymd_opt(2024, 1, 1),
                ..SupplyFilter::default()
            })
            .unwrap();
        assert!(
            before.iter().all(|p| p.places.is_none()),
            "capacity recorded later does not count"
        );
    }

    #[test]
    fn service_rows_cross_zone_target_group_and_risk() {
        let reg = crate::testutil::registry();
        let rows = reg.service_rows().unwrap();
        let keys: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {}",
                    r.zone_code, r.service_id, r.target_group, r.taxonomy_code
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                "Z01 s-segretariato all housing",
                "Z01 s-segretariato all poverty",
                "Z02 s-day-centre elderly non_self_sufficiency",
                "Z03 s-shelter homeless housing",
                "Z03 s-shelter homeless poverty",
            ]
        );
    }

    #[test]
    fn coverage_gap_and_reach_by_hand() {
        let points = vec![
            point("a", "Z1", Some(30), (44.60, 10.90), 6.0),
            point("b", "Z1", Some(10), (44.61, 10.90), 2.0),
            point("c", "Z3", None, (44.70, 10.90), 1.0),
        ];
        let needs = vec![
            ZoneNeed {
                zone: "Z1".into(),
                in_need: 200.0,
                centroid: Some((44.60, 10.90)),
            },
            // 0.03 degrees of latitude (3.34 km) from c: within 5 km
            ZoneNeed {
                zone: "Z2".into(),
                in_need: 50.0,
                centroid: Some((44.73, 10.90)),
            },
            // 0.2 degrees (22 km) from the nearest point: unserved
            ZoneNeed {
                zone: "Z4".into(),
                in_need: 10.0,
                centroid: Some((44.90, 10.90)),
            },
            ZoneNeed {
                zone: "Z5".into(),
                in_need: 0.0,
                centroid: None,
            },
        ];
        let rows = needs_vs_supply(&needs, &points, 0.25, 5.0);
        let z1 = &rows[0];
        assert_eq!((z1.services, z1.places, z1.operators), (2, 40.0, 8.0));
        assert_eq!(z1.places_per_1000, Some(200.0)); // 40 / 200 * 1000
        assert_eq!(z1.operators_per_1000, Some(40.0));
        assert_eq!(z1.coverage, Some(0.2));
        assert_eq!((z1.required, z1.gap), (50.0, 10.0));
        assert_eq!((z1.nearest_km, z1.unserved), (Some(0.0), false));
        assert_eq!((z1.users, z1.waiting_list), (20.0, 2.0));

        let z2 = &rows[1];
        assert_eq!((z2.services, z2.places, z2.gap), (0, 0.0, 12.5));
        let d = z2.nearest_km.unwrap();
        assert!((d - 3.336).abs() < 0.01, "{d}");
        assert!(!z2.unserved);

        let z4 = &rows[2];
        assert!(z4.unserved && z4.nearest_km.unwrap() > 20.0);
        let z5 = &rows[3];
        assert_eq!(
            (z5.coverage, z5.places_per_1000, z5.unserved),
            (None, None, false)
        );
    }
}
