//! What the server shows, per audience: the releases each role may read, indexed for queries,
//! and the public registry of services with its search index.
//!
//! The releases are read through the gate ([`report::released::Publication`], every file
//! checked against the hash in its release log) and reloaded when a release changes on disk.
//! A public view holds only public releases; nothing here reads the warehouse, so no answer
//! built from a view can hold an unchecked cell.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use model::Role;
use project::release::Audience;
use registry::search::SearchIndex;
use report::released::{Obs, Publication};

use crate::error::ApiError;

/// How often the server looks for new releases on disk.
const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// The releases one audience may read, indexed by indicator.
pub struct View {
    pub publication: Publication,
    /// Per indicator: its released values, one per (level, territory, period, breakdown) (the
    /// latest release wins), sorted by level order, territory, period and breakdown.
    pub cube: BTreeMap<String, Vec<Obs>>,
}

impl View {
    fn new(publication: Publication, levels: &[String]) -> View {
        let mut cube: BTreeMap<String, Vec<Obs>> = BTreeMap::new();
        for id in publication.indicators() {
            let mut latest: BTreeMap<(usize, String, String, String), Obs> = BTreeMap::new();
            for o in publication.series_of(id).flat_map(|s| &s.obs) {
                let level = levels
                    .iter()
                    .position(|l| *l == o.level)
                    .unwrap_or(levels.len());
                latest.insert(
                    (
                        level,
                        o.territory.clone(),
                        o.period.clone(),
                        o.breakdown.clone(),
                    ),
                    o.clone(),
                );
            }
            cube.insert(id.to_string(), latest.into_values().collect());
        }
        View { publication, cube }
    }

    /// The released values of `indicator`, or `not_found`.
    pub fn obs(&self, indicator: &str) -> Result<&[Obs], ApiError> {
        self.cube.get(indicator).map(Vec::as_slice).ok_or_else(|| {
            ApiError::not_found(format!(
                "no released indicator `{indicator}` (GET /api/indicators lists them)"
            ))
        })
    }
}

/// The views of every audience, from one reading of the releases.
pub struct Views {
    pub public: View,
    /// Partners also read the releases for partners.
    pub partner: View,
    /// Lab roles read every release (also those for the steering committee).
    pub lab: View,
    fingerprint: String,
}

impl Views {
    /// The view a role may read.
    pub fn for_role(&self, role: Role) -> &View {
        match role {
            Role::Public => &self.public,
            Role::Partner => &self.partner,
            Role::Analyst | Role::Checker | Role::Admin => &self.lab,
        }
    }
}

/// A service as the public map shows it: no contact person, phone or e-mail.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublicService {
    pub id: String,
    pub name: String,
    pub organization: String,
    /// `public_body`, `third_sector` or `for_profit`.
    pub sector: Option<String>,
    pub description: Option<String>,
    pub status: String,
    /// Social-risk codes.
    pub risks: Vec<String>,
    /// Target-group codes.
    pub target_groups: Vec<String>,
    pub minimum_age: Option<u32>,
    pub maximum_age: Option<u32>,
    pub free: Option<bool>,
    pub fees: Option<String>,
    pub eligibility: Option<String>,
    pub application_process: Option<String>,
    pub url: Option<String>,
    pub locations: Vec<PublicLocation>,
}

/// Where a service is offered.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublicLocation {
    pub id: String,
    pub name: Option<String>,
    pub address: Option<String>,
    pub zone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// The registry as the server serves it.
pub struct Services {
    pub index: SearchIndex,
    pub records: BTreeMap<String, PublicService>,
    /// Active services' supply points by service-at-location (for needs vs supply).
    pub registry: PathBuf,
}

/// The lab's data behind the server.
pub struct Lab {
    pub project: project::Project,
    views: RwLock<Arc<Views>>,
    checked: Mutex<Instant>,
    services: RwLock<Option<Arc<Services>>>,
    services_stamp: Mutex<Option<SystemTime>>,
    /// The finest level's boundaries (GeoJSON text), when the project has them.
    pub zones_geojson: Option<String>,
    reports: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl Lab {
    /// Reads the project's releases and registry.
    ///
    /// # Errors
    /// When a release was tampered with or the registry cannot be read.
    pub fn open(project: project::Project) -> Result<Lab, ApiError> {
        let views = load_views(&project)?;
        let finest = project.hierarchy.levels.last().cloned();
        let zones_geojson = project
            .boundaries
            .iter()
            .find(|(level, _)| Some(level) == finest.as_ref())
            .and_then(|(_, path)| std::fs::read_to_string(project.root.join(path)).ok());
        let lab = Lab {
            project,
            views: RwLock::new(Arc::new(views)),
            checked: Mutex::new(Instant::now()),
            services: RwLock::new(None),
            services_stamp: Mutex::new(None),
            zones_geojson,
            reports: Mutex::new(HashMap::new()),
        };
        lab.refresh_services()?;
        Ok(lab)
    }

    /// The current views, reloaded first when a release changed on disk.
    pub fn views(&self) -> Arc<Views> {
        let due = {
            let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
            if checked.elapsed() >= RELOAD_EVERY {
                *checked = Instant::now();
                true
            } else {
                false
            }
        };
        if due {
            let current = self.views.read().unwrap_or_else(|p| p.into_inner()).clone();
            if fingerprint(&self.project.root) != current.fingerprint {
                match load_views(&self.project) {
                    Ok(v) => {
                        *self.views.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(v);
                        self.reports
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .clear();
                    }
                    Err(e) => eprintln!(
                        "datalab serve: releases changed but cannot be read, serving the last good ones: {}",
                        e.message
                    ),
                }
            }
            if let Err(e) = self.refresh_services() {
                eprintln!(
                    "datalab serve: the registry changed but cannot be read, serving the last good one: {}",
                    e.message
                );
            }
        }
        self.views.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reloads the views now (after a release made through the server).
    pub fn reload(&self) -> Result<(), ApiError> {
        let v = load_views(&self.project)?;
        *self.views.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(v);
        self.reports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        Ok(())
    }

    /// The registry's services, when the project has a registry.
    pub fn services(&self) -> Option<Arc<Services>> {
        self.services
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn refresh_services(&self) -> Result<(), ApiError> {
        let path = self.project.root.join(registry::REGISTRY_FILE);
        let stamp = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let mut last = self
            .services_stamp
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if *last == stamp && (stamp.is_none() || self.services().is_some()) {
            return Ok(());
        }
        let services = match stamp {
            Some(_) => Some(Arc::new(load_services(&path)?)),
            None => None,
        };
        *self.services.write().unwrap_or_else(|p| p.into_inner()) = services;
        *last = stamp;
        Ok(())
    }

    /// A rendered report from the cache, or rendered now and kept (the cache empties when the
    /// releases change).
    pub fn report(
        &self,
        key: String,
        render: impl FnOnce() -> Result<Vec<u8>, ApiError>,
    ) -> Result<Arc<Vec<u8>>, ApiError> {
        if let Some(b) = self
            .reports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(b.clone());
        }
        let bytes = Arc::new(render()?);
        self.reports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, bytes.clone());
        Ok(bytes)
    }
}

/// Names, sizes and times of the release logs: changes when a release is made or replaced.
fn fingerprint(root: &Path) -> String {
    let mut out = String::new();
    for name in disclosure::release::release_names(root) {
        let log = root
            .join(project::release::RELEASES_DIR)
            .join(&name)
            .join("release.json");
        let meta = std::fs::metadata(&log).ok();
        let size = meta.as_ref().map_or(0, std::fs::Metadata::len);
        let time = meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        out.push_str(&format!("{name}:{size}:{time};"));
    }
    out
}

fn load_views(project: &project::Project) -> Result<Views, ApiError> {
    let fingerprint = fingerprint(&project.root);
    let levels = &project.hierarchy.levels;
    let load = |audiences: &[Audience]| -> Result<View, ApiError> {
        Ok(View::new(
            Publication::load_for(project, &[], audiences)?,
            levels,
        ))
    };
    Ok(Views {
        public: load(&[Audience::Public])?,
        partner: load(&[Audience::Public, Audience::Partners])?,
        lab: load(&[Audience::Public, Audience::Partners, Audience::Steering])?,
        fingerprint,
    })
}

fn load_services(path: &Path) -> Result<Services, ApiError> {
    use registry::{Address, Location, Organization, Service, ServiceAtLocation};
    let fail = |e: registry::RegistryError| ApiError::internal(format!("{}: {e}", path.display()));
    let reg = registry::Registry::open(path).map_err(fail)?;
    let index = SearchIndex::build(&reg).map_err(fail)?;
    let orgs: BTreeMap<String, Organization> = reg
        .list::<Organization>()
        .map_err(fail)?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let locations: BTreeMap<String, Location> = reg
        .list::<Location>()
        .map_err(fail)?
        .into_iter()
        .map(|l| (l.id.clone(), l))
        .collect();
    let mut addresses: BTreeMap<String, String> = BTreeMap::new();
    for a in reg.list::<Address>().map_err(fail)? {
        addresses
            .entry(a.location_id.clone())
            .or_insert_with(|| format!("{}, {} {}", a.address_1, a.postal_code, a.city));
    }
    let mut at: BTreeMap<String, Vec<PublicLocation>> = BTreeMap::new();
    for sal in reg.list::<ServiceAtLocation>().map_err(fail)? {
        if let Some(l) = locations.get(&sal.location_id) {
            at.entry(sal.service_id.clone())
                .or_default()
                .push(PublicLocation {
                    id: l.id.clone(),
                    name: l.name.clone(),
                    address: addresses.get(&l.id).cloned(),
                    zone: l.zone.clone(),
                    latitude: l.latitude,
                    longitude: l.longitude,
                });
        }
    }
    let records = reg
        .list::<Service>()
        .map_err(fail)?
        .into_iter()
        .map(|s| {
            let org = orgs.get(&s.organization_id);
            let record = PublicService {
                id: s.id.clone(),
                name: s.name,
                organization: org.map(|o| o.name.clone()).unwrap_or_default(),
                sector: org.and_then(|o| o.kind).map(|k| k.code().to_string()),
                description: s.description,
                status: s.status.code().to_string(),
                risks: s.risks.iter().map(|r| r.code().to_string()).collect(),
                target_groups: s
                    .target_groups
                    .iter()
                    .map(|g| g.code().to_string())
                    .collect(),
                minimum_age: s.minimum_age,
                maximum_age: s.maximum_age,
                free: s.free,
                fees: s.fees_description,
                eligibility: s.eligibility_description,
                application_process: s.application_process,
                url: s.url,
                locations: at.remove(&s.id).unwrap_or_default(),
            };
            (s.id, record)
        })
        .collect();
    Ok(Services {
        index,
        records,
        registry: path.to_path_buf(),
    })
}

/// The territory levels that hold values of `obs`, in the hierarchy's order.
pub fn levels_of(obs: &[Obs], hierarchy: &model::Hierarchy) -> Vec<String> {
    let present: BTreeSet<&str> = obs.iter().map(|o| o.level.as_str()).collect();
    let mut out: Vec<String> = hierarchy
        .levels
        .iter()
        .filter(|l| present.contains(l.as_str()))
        .cloned()
        .collect();
    for l in present {
        if !out.iter().any(|x| x == l) {
            out.push(l.to_string());
        }
    }
    out
}
