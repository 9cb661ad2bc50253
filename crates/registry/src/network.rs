//! Who works with whom: the organization–project network of the programmes, and services that
//! overlap on the same territory, people and risk.
//!
//! [`analyse`] reads `project_partners` as a bipartite graph (organizations on one side,
//! projects on the other) and derives what a programme office asks of it:
//! - per organization, its degree (number of projects) and roles;
//! - the projection on organizations: two are linked when they share projects, weighted by how
//!   many;
//! - the projection on projects: two are linked when they share partners, weighted by how many;
//! - clusters: the connected components of the bipartite graph (union-find), each with its
//!   organizations and projects;
//! - organizations shared between projects (degree two or more).
//!
//! [`Network::tables`] gives them as tables and [`Network::graph`] as nodes and edges for drawing.
//!
//! [`service_overlaps`] takes plain service rows (so that it does not depend on how the providers
//! half stores them) and finds services of different providers for the same zone, target group
//! and social-risk category: candidates for coordination, or for duplication of effort.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;
use serde::Serialize;

use crate::programme::{Cell, PartnerRole, ProgrammeError, Table};

/// An organization with its projects and roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganizationNode {
    pub id: String,
    pub name: String,
    pub kind: Option<String>,
    /// The projects it takes part in, by id: its degree is their number.
    pub projects: Vec<String>,
    /// Every role it holds, in any project.
    pub roles: Vec<PartnerRole>,
    /// The [`Cluster`] it belongs to.
    pub cluster: usize,
}

impl OrganizationNode {
    /// The number of projects the organization takes part in.
    pub fn degree(&self) -> usize {
        self.projects.len()
    }
}

/// A project with its partners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectNode {
    pub id: String,
    pub programme_id: String,
    pub code: String,
    pub title: String,
    /// Its partner organizations, by id.
    pub partners: Vec<String>,
    pub cluster: usize,
}

/// Two organizations and the projects they share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganizationLink {
    pub a: String,
    pub b: String,
    pub shared_projects: Vec<String>,
}

/// Two projects and the partners they share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectLink {
    pub a: String,
    pub b: String,
    pub shared_partners: Vec<String>,
}

/// A connected component of the organization–project graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cluster {
    /// 1 for the largest cluster, then by size and first member.
    pub id: usize,
    pub organizations: Vec<String>,
    pub projects: Vec<String>,
}

/// The kind of a node of [`Graph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Organization,
    Project,
}

/// The kind of an edge of [`Graph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// An organization takes part in a project (weight 1).
    Partnership,
    /// Two organizations share projects (weight: how many).
    SharedProjects,
    /// Two projects share partners (weight: how many).
    SharedPartners,
}

/// A node to draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
    pub label: String,
    pub degree: usize,
    pub cluster: usize,
}

/// An edge to draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub source: String,
    pub target: String,
    pub kind: EdgeKind,
    pub weight: usize,
    /// For a partnership, the roles the organization holds in the project.
    pub roles: Vec<PartnerRole>,
}

/// Nodes and edges, for drawing; the edges of both projections are included, marked by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// The organization–project network of one programme or of the whole registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    /// Organizations with at least one project, by id.
    pub organizations: Vec<OrganizationNode>,
    /// Every project in scope, with or without partners, by id.
    pub projects: Vec<ProjectNode>,
    pub organization_links: Vec<OrganizationLink>,
    pub project_links: Vec<ProjectLink>,
    pub clusters: Vec<Cluster>,
    /// The roles of each partnership, keyed by (organization, project).
    partnerships: BTreeMap<(String, String), Vec<PartnerRole>>,
}

/// Union-find over node indices, with path halving and union by size.
struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

/// Pairs of distinct keys sharing members, from a map of member -> keys: for each pair of keys,
/// the members they share.
fn projection(groups: &BTreeMap<&str, BTreeSet<&str>>) -> Vec<(String, String, Vec<String>)> {
    let mut shared: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for (member, keys) in groups {
        let keys: Vec<&str> = keys.iter().copied().collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                shared.entry((a, b)).or_default().push(member.to_string());
            }
        }
    }
    shared
        .into_iter()
        .map(|((a, b), members)| (a.to_string(), b.to_string(), members))
        .collect()
}

/// Builds the network of one programme (`Some(id)`) or of every programme (`None`) from
/// `project_partners`, `organizations` and `projects`.
pub fn analyse(conn: &Connection, programme_id: Option<&str>) -> Result<Network, ProgrammeError> {
    let context = "reading the organization-project network";
    let mut stmt = conn
        .prepare(
            "SELECT id, programme_id, code, title FROM projects
             WHERE ?1 IS NULL OR programme_id = ?1 ORDER BY id",
        )
        .map_err(ProgrammeError::db(context))?;
    let mut projects: Vec<ProjectNode> = stmt
        .query_map([programme_id], |row| {
            Ok(ProjectNode {
                id: row.get(0)?,
                programme_id: row.get(1)?,
                code: row.get(2)?,
                title: row.get(3)?,
                partners: Vec::new(),
                cluster: 0,
            })
        })
        .map_err(ProgrammeError::db(context))?
        .collect::<Result<_, _>>()
        .map_err(ProgrammeError::db(context))?;
    let mut stmt = conn
        .prepare(
            "SELECT pp.organization_id, o.name, o.kind, pp.project_id, pp.role
             FROM project_partners pp
             JOIN organizations o ON o.id = pp.organization_id
             JOIN projects p ON p.id = pp.project_id
             WHERE ?1 IS NULL OR p.programme_id = ?1
             ORDER BY pp.organization_id, pp.project_id, pp.role",
        )
        .map_err(ProgrammeError::db(context))?;
    let rows: Vec<(String, String, Option<String>, String, PartnerRole)> = stmt
        .query_map([programme_id], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })
        .map_err(ProgrammeError::db(context))?
        .collect::<Result<_, _>>()
        .map_err(ProgrammeError::db(context))?;

    let mut organizations: BTreeMap<String, OrganizationNode> = BTreeMap::new();
    let mut partnerships: BTreeMap<(String, String), Vec<PartnerRole>> = BTreeMap::new();
    for (org, name, kind, project, role) in rows {
        let node = organizations
            .entry(org.clone())
            .or_insert_with(|| OrganizationNode {
                id: org.clone(),
                name,
                kind,
                projects: Vec::new(),
                roles: Vec::new(),
                cluster: 0,
            });
        if !node.projects.contains(&project) {
            node.projects.push(project.clone());
        }
        if !node.roles.contains(&role) {
            node.roles.push(role);
        }
        partnerships.entry((org, project)).or_default().push(role);
    }
    for node in organizations.values_mut() {
        node.projects.sort();
        node.roles.sort();
    }
    let mut organizations: Vec<OrganizationNode> = organizations.into_values().collect();

    let project_index: BTreeMap<String, usize> = projects
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();
    let n = organizations.len();
    let mut components = UnionFind::new(n + projects.len());
    for (o, org) in organizations.iter().enumerate() {
        for project in &org.projects {
            let p = *project_index.get(project).ok_or_else(|| {
                ProgrammeError::Internal(format!(
                    "project '{project}' of a partner link not listed"
                ))
            })?;
            components.union(o, n + p);
            if let Some(node) = projects.get_mut(p) {
                node.partners.push(org.id.clone());
            }
        }
    }

    // Clusters: gather members per root, order by size (desc) then first member id.
    let mut members: BTreeMap<usize, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for o in 0..n {
        members.entry(components.find(o)).or_default().0.push(o);
    }
    for p in 0..projects.len() {
        members.entry(components.find(n + p)).or_default().1.push(p);
    }
    let mut groups: Vec<(Vec<usize>, Vec<usize>)> = members.into_values().collect();
    let first_id = |(orgs, projs): &(Vec<usize>, Vec<usize>)| -> String {
        orgs.first()
            .and_then(|&o| organizations.get(o))
            .map(|o| o.id.clone())
            .or_else(|| {
                projs
                    .first()
                    .and_then(|&p| projects.get(p))
                    .map(|p| p.id.clone())
            })
            .unwrap_or_default()
    };
    groups.sort_by_cached_key(|g| (std::cmp::Reverse(g.0.len() + g.1.len()), first_id(g)));
    let mut clusters = Vec::with_capacity(groups.len());
    for (i, (orgs, projs)) in groups.into_iter().enumerate() {
        let id = i + 1;
        for &o in &orgs {
            if let Some(node) = organizations.get_mut(o) {
                node.cluster = id;
            }
        }
        for &p in &projs {
            if let Some(node) = projects.get_mut(p) {
                node.cluster = id;
            }
        }
        clusters.push(Cluster {
            id,
            organizations: orgs
                .iter()
                .filter_map(|&o| organizations.get(o).map(|n| n.id.clone()))
                .collect(),
            projects: projs
                .iter()
                .filter_map(|&p| projects.get(p).map(|n| n.id.clone()))
                .collect(),
        });
    }

    // Projections: organizations linked through projects, projects through organizations.
    let mut by_project: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut by_organization: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for org in &organizations {
        for project in &org.projects {
            by_project.entry(project).or_default().insert(&org.id);
            by_organization.entry(&org.id).or_default().insert(project);
        }
    }
    let organization_links = projection(&by_project)
        .into_iter()
        .map(|(a, b, shared_projects)| OrganizationLink {
            a,
            b,
            shared_projects,
        })
        .collect();
    let project_links = projection(&by_organization)
        .into_iter()
        .map(|(a, b, shared_partners)| ProjectLink {
            a,
            b,
            shared_partners,
        })
        .collect();

    Ok(Network {
        organizations,
        projects,
        organization_links,
        project_links,
        clusters,
        partnerships,
    })
}

fn joined(items: &[String]) -> Cell {
    Cell::Text(items.join(", "))
}

impl Network {
    /// Organizations in two or more projects.
    pub fn shared_organizations(&self) -> impl Iterator<Item = &OrganizationNode> {
        self.organizations.iter().filter(|o| o.degree() > 1)
    }

    /// How tables name a project: its code when all projects are of one programme, else its id.
    fn label(&self, project_id: &str) -> String {
        let one_programme = self
            .projects
            .windows(2)
            .all(|w| w[0].programme_id == w[1].programme_id);
        match self.projects.iter().find(|p| p.id == project_id) {
            Some(p) if one_programme => p.code.clone(),
            _ => project_id.to_string(),
        }
    }

    fn labels(&self, project_ids: &[String]) -> Cell {
        let labels: Vec<String> = project_ids.iter().map(|p| self.label(p)).collect();
        joined(&labels)
    }

    /// The network as five tables: organizations with degree and roles, organization links,
    /// clusters, shared organizations and project links.
    pub fn tables(&self) -> Vec<Table> {
        let roles = |roles: &[PartnerRole]| {
            Cell::Text(
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        };
        let table = |key: &str, title: &str, columns: &[&str], rows: Vec<Vec<Cell>>| Table {
            key: key.to_string(),
            title: title.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
        };
        let mut organizations: Vec<&OrganizationNode> = self.organizations.iter().collect();
        organizations.sort_by(|a, b| b.degree().cmp(&a.degree()).then(a.id.cmp(&b.id)));
        let mut links: Vec<&OrganizationLink> = self.organization_links.iter().collect();
        links.sort_by(|a, b| {
            (b.shared_projects.len().cmp(&a.shared_projects.len()))
                .then((&a.a, &a.b).cmp(&(&b.a, &b.b)))
        });
        let mut project_links: Vec<&ProjectLink> = self.project_links.iter().collect();
        project_links.sort_by(|a, b| {
            (b.shared_partners.len().cmp(&a.shared_partners.len()))
                .then((&a.a, &a.b).cmp(&(&b.a, &b.b)))
        });
        vec![
            table(
                "network_organizations",
                "Organizations by number of projects",
                &[
                    "organization_id",
                    "name",
                    "kind",
                    "projects",
                    "roles",
                    "project_codes",
                    "cluster",
                ],
                organizations
                    .iter()
                    .map(|o| {
                        vec![
                            Cell::from(o.id.as_str()),
                            Cell::from(o.name.as_str()),
                            Cell::from(o.kind.clone()),
                            Cell::from(o.degree()),
                            roles(&o.roles),
                            self.labels(&o.projects),
                            Cell::from(o.cluster),
                        ]
                    })
                    .collect(),
            ),
            table(
                "network_organization_links",
                "Organizations sharing projects",
                &[
                    "organization_a",
                    "organization_b",
                    "shared_projects",
                    "project_codes",
                ],
                links
                    .iter()
                    .map(|l| {
                        vec![
                            Cell::from(l.a.as_str()),
                            Cell::from(l.b.as_str()),
                            Cell::from(l.shared_projects.len()),
                            self.labels(&l.shared_projects),
                        ]
                    })
                    .collect(),
            ),
            table(
                "network_clusters",
                "Clusters of organizations and projects",
                &["cluster", "organizations", "projects", "project_codes"],
                self.clusters
                    .iter()
                    .map(|c| {
                        vec![
                            Cell::from(c.id),
                            Cell::from(c.organizations.len()),
                            Cell::from(c.projects.len()),
                            self.labels(&c.projects),
                        ]
                    })
                    .collect(),
            ),
            table(
                "network_shared_organizations",
                "Organizations in more than one project",
                &["organization_id", "name", "projects", "project_codes"],
                organizations
                    .iter()
                    .filter(|o| o.degree() > 1)
                    .map(|o| {
                        vec![
                            Cell::from(o.id.as_str()),
                            Cell::from(o.name.as_str()),
                            Cell::from(o.degree()),
                            self.labels(&o.projects),
                        ]
                    })
                    .collect(),
            ),
            table(
                "network_project_links",
                "Projects sharing partners",
                &[
                    "project_a",
                    "project_b",
                    "shared_partners",
                    "organization_ids",
                ],
                project_links
                    .iter()
                    .map(|l| {
                        vec![
                            Cell::from(self.label(&l.a)),
                            Cell::from(self.label(&l.b)),
                            Cell::from(l.shared_partners.len()),
                            joined(&l.shared_partners),
                        ]
                    })
                    .collect(),
            ),
        ]
    }

    /// The network as nodes (organizations, then projects) and edges (partnerships, then the
    /// organization and project projections), for drawing.
    pub fn graph(&self) -> Graph {
        let mut nodes: Vec<Node> = self
            .organizations
            .iter()
            .map(|o| Node {
                id: o.id.clone(),
                kind: NodeKind::Organization,
                label: o.name.clone(),
                degree: o.degree(),
                cluster: o.cluster,
            })
            .collect();
        nodes.extend(self.projects.iter().map(|p| Node {
            id: p.id.clone(),
            kind: NodeKind::Project,
            label: self.label(&p.id),
            degree: p.partners.len(),
            cluster: p.cluster,
        }));
        let mut edges: Vec<Edge> = self
            .partnerships
            .iter()
            .map(|((org, project), roles)| Edge {
                source: org.clone(),
                target: project.clone(),
                kind: EdgeKind::Partnership,
                weight: 1,
                roles: roles.clone(),
            })
            .collect();
        edges.extend(self.organization_links.iter().map(|l| Edge {
            source: l.a.clone(),
            target: l.b.clone(),
            kind: EdgeKind::SharedProjects,
            weight: l.shared_projects.len(),
            roles: Vec::new(),
        }));
        edges.extend(self.project_links.iter().map(|l| Edge {
            source: l.a.clone(),
            target: l.b.clone(),
            kind: EdgeKind::SharedPartners,
            weight: l.shared_partners.len(),
            roles: Vec::new(),
        }));
        Graph { nodes, edges }
    }
}

/// One service as the overlap analysis needs it: who provides it, where, for whom, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRow {
    pub service_id: String,
    pub organization_id: String,
    /// The zone served (a statistical zone, a district).
    pub zone_code: String,
    /// The people served (`elderly`, `minors`, ...).
    pub target_group: String,
    /// The service's code in the taxonomy in use; mapped to a risk category by the caller.
    pub taxonomy_code: String,
}

/// A service and its provider, inside an [`OverlapGroup`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ServiceRef {
    pub service_id: String,
    pub organization_id: String,
}

/// Services of two or more providers on the same zone, target group and risk category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverlapGroup {
    pub zone_code: String,
    pub target_group: String,
    pub risk_category: String,
    pub services: Vec<ServiceRef>,
    /// The distinct providers, by id (at least two).
    pub providers: Vec<String>,
}

/// Two services of different providers in the same [`OverlapGroup`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverlapPair {
    pub zone_code: String,
    pub target_group: String,
    pub risk_category: String,
    pub a: ServiceRef,
    pub b: ServiceRef,
}

/// A service row left out of the comparison, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedService {
    pub service_id: String,
    pub reason: String,
}

/// The result of [`service_overlaps`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overlaps {
    pub groups: Vec<OverlapGroup>,
    pub pairs: Vec<OverlapPair>,
    pub skipped: Vec<SkippedService>,
}

/// Groups services by zone, target group and social-risk category and keeps the groups served
/// by more than one provider, with every pair of services of different providers.
///
/// `risk_category` maps a taxonomy code to its social-risk category (identity to compare exact
/// codes, a prefix for a hierarchical taxonomy); `None` means the code is outside every category.
/// Zone, target group and code are compared after trimming. A row with an empty zone, target
/// group or code, or a code without a category, cannot be compared and is listed in `skipped`.
/// Several services of one provider in a group are listed but not paired with each other.
///
/// ```
/// use datalab_registry::network::{ServiceRow, service_overlaps};
/// let row = |service: &str, org: &str, code: &str| ServiceRow {
///     service_id: service.into(),
///     organization_id: org.into(),
///     zone_code: "Z1".into(),
///     target_group: "elderly".into(),
///     taxonomy_code: code.into(),
/// };
/// let rows = [row("s1", "a", "D1.2"), row("s2", "b", "D1.7"), row("s3", "c", "E4")];
/// // Compare by the first segment of the code: s1 and s2 are both in "D1".
/// let overlaps = service_overlaps(&rows, |code| code.split('.').next().map(String::from));
/// assert_eq!(overlaps.groups.len(), 1);
/// assert_eq!(overlaps.groups[0].providers, ["a", "b"]);
/// ```
pub fn service_overlaps(
    rows: &[ServiceRow],
    risk_category: impl Fn(&str) -> Option<String>,
) -> Overlaps {
    let mut skipped = Vec::new();
    let mut grouped: BTreeMap<(String, String, String), BTreeSet<ServiceRef>> = BTreeMap::new();
    for row in rows {
        let zone = row.zone_code.trim();
        let target = row.target_group.trim();
        let code = row.taxonomy_code.trim();
        let missing = [
            ("zone_code", zone),
            ("target_group", target),
            ("taxonomy_code", code),
        ]
        .into_iter()
        .find(|(_, value)| value.is_empty());
        if let Some((field, _)) = missing {
            skipped.push(SkippedService {
                service_id: row.service_id.clone(),
                reason: format!("{field} is empty"),
            });
            continue;
        }
        let Some(category) = risk_category(code) else {
            skipped.push(SkippedService {
                service_id: row.service_id.clone(),
                reason: format!("taxonomy code '{code}' has no social-risk category"),
            });
            continue;
        };
        grouped
            .entry((zone.to_string(), target.to_string(), category))
            .or_default()
            .insert(ServiceRef {
                service_id: row.service_id.clone(),
                organization_id: row.organization_id.trim().to_string(),
            });
    }
    let mut groups = Vec::new();
    let mut pairs = Vec::new();
    for ((zone_code, target_group, risk_category), services) in grouped {
        let providers: BTreeSet<String> =
            services.iter().map(|s| s.organization_id.clone()).collect();
        if providers.len() < 2 {
            continue;
        }
        let services: Vec<ServiceRef> = services.into_iter().collect();
        for (i, a) in services.iter().enumerate() {
            for b in &services[i + 1..] {
                if a.organization_id != b.organization_id {
                    pairs.push(OverlapPair {
                        zone_code: zone_code.clone(),
                        target_group: target_group.clone(),
                        risk_category: risk_category.clone(),
                        a: a.clone(),
                        b: b.clone(),
                    });
                }
            }
        }
        groups.push(OverlapGroup {
            providers: providers.into_iter().collect(),
            zone_code,
            target_group,
            risk_category,
            services,
        });
    }
    Overlaps {
        groups,
        pairs,
        skipped,
    }
}

impl Overlaps {
    /// The groups, the pairs and the skipped rows as tables.
    pub fn tables(&self) -> Vec<Table> {
        let services = |list: &[ServiceRef]| {
            Cell::Text(
                list.iter()
                    .map(|s| format!("{} ({})", s.service_id, s.organization_id))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        };
        vec![
            Table {
                key: "service_overlap_groups".into(),
                title: "Services of different providers on the same zone, target group and risk"
                    .into(),
                columns: [
                    "zone_code",
                    "target_group",
                    "risk_category",
                    "providers",
                    "services",
                    "service_list",
                ]
                .map(String::from)
                .to_vec(),
                rows: self
                    .groups
                    .iter()
                    .map(|g| {
                        vec![
                            Cell::from(g.zone_code.as_str()),
                            Cell::from(g.target_group.as_str()),
                            Cell::from(g.risk_category.as_str()),
                            Cell::from(g.providers.len()),
                            Cell::from(g.services.len()),
                            services(&g.services),
                        ]
                    })
                    .collect(),
            },
            Table {
                key: "service_overlap_pairs".into(),
                title: "Overlapping pairs of services".into(),
                columns: [
                    "zone_code",
                    "target_group",
                    "risk_category",
                    "service_a",
                    "organization_a",
                    "service_b",
                    "organization_b",
                ]
                .map(String::from)
                .to_vec(),
                rows: self
                    .pairs
                    .iter()
                    .map(|p| {
                        vec![
                            Cell::from(p.zone_code.as_str()),
                            Cell::from(p.target_group.as_str()),
                            Cell::from(p.risk_category.as_str()),
                            Cell::from(p.a.service_id.as_str()),
                            Cell::from(p.a.organization_id.as_str()),
                            Cell::from(p.b.service_id.as_str()),
                            Cell::from(p.b.organization_id.as_str()),
                        ]
                    })
                    .collect(),
            },
            Table {
                key: "service_overlap_skipped".into(),
                title: "Services left out of the comparison".into(),
                columns: ["service_id", "reason"].map(String::from).to_vec(),
                rows: self
                    .skipped
                    .iter()
                    .map(|s| {
                        vec![
                            Cell::from(s.service_id.as_str()),
                            Cell::from(s.reason.as_str()),
                        ]
                    })
                    .collect(),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programme::store::tests::{database, organization, programme, project};
    use crate::programme::{
        ProjectPartner, insert_programme, insert_project, insert_project_partner,
    };

    /// prog: A (o1 lead and managing body, o2), B (o1 partner, o2, o3), C (o4), D (nobody);
    /// other: X (o5).
    fn fixture() -> Connection {
        let mut conn = database();
        for org in ["o1", "o2", "o3", "o4", "o5"] {
            organization(&conn, org);
        }
        let tx = conn.transaction().unwrap();
        insert_programme(&tx, &programme("prog")).unwrap();
        insert_programme(&tx, &programme("other")).unwrap();
        for code in ["A", "B", "C", "D"] {
            insert_project(&tx, &project("prog", code)).unwrap();
        }
        insert_project(&tx, &project("other", "X")).unwrap();
        let links = [
            ("prog/A", "o1", PartnerRole::Lead),
            ("prog/A", "o1", PartnerRole::ManagingBody),
            ("prog/A", "o2", PartnerRole::Partner),
            ("prog/B", "o1", PartnerRole::Partner),
            ("prog/B", "o2", PartnerRole::Partner),
            ("prog/B", "o3", PartnerRole::ManagingBody),
            ("prog/C", "o4", PartnerRole::Lead),
            ("other/X", "o5", PartnerRole::Lead),
        ];
        for (project_id, organization_id, role) in links {
            let partner = ProjectPartner {
                project_id: project_id.into(),
                organization_id: organization_id.into(),
                role,
                territorial_area: None,
            };
            insert_project_partner(&tx, &partner).unwrap();
        }
        tx.commit().unwrap();
        conn
    }

    fn check(table: &Table, expect: &str) {
        let text = table.to_string();
        assert_eq!(text.trim_end(), expect.trim(), "\n{text}");
    }

    #[test]
    fn degrees_projections_and_clusters_of_one_programme() {
        let network = analyse(&fixture(), Some("prog")).unwrap();
        let tables = network.tables();
        check(
            &tables[0],
            "
Organizations by number of projects
organization_id  name     kind         projects  roles                         project_codes  cluster
---------------  -------  -----------  --------  ----------------------------  -------------  -------
o1               Body o1  public_body         2  lead, managing_body, partner  A, B                 1
o2               Body o2  public_body         2  partner                       A, B                 1
o3               Body o3  public_body         1  managing_body                 B                    1
o4               Body o4  public_body         1  lead                          C                    2",
        );
        check(
            &tables[1],
            "
Organizations sharing projects
organization_a  organization_b  shared_projects  project_codes
--------------  --------------  ---------------  -------------
o1              o2                            2  A, B
o1              o3                            1  B
o2              o3                            1  B",
        );
        check(
            &tables[2],
            "
Clusters of organizations and projects
cluster  organizations  projects  project_codes
-------  -------------  --------  -------------
      1              3         2  A, B
      2              1         1  C
      3              0         1  D",
        );
        check(
            &tables[3],
            "
Organizations in more than one project
organization_id  name     projects  project_codes
---------------  -------  --------  -------------
o1               Body o1         2  A, B
o2               Body o2         2  A, B",
        );
        check(
            &tables[4],
            "
Projects sharing partners
project_a  project_b  shared_partners  organization_ids
---------  ---------  ---------------  ----------------
A          B                        2  o1, o2",
        );
        let shared: Vec<&str> = network
            .shared_organizations()
            .map(|o| o.id.as_str())
            .collect();
        assert_eq!(shared, ["o1", "o2"]);
    }

    #[test]
    fn the_whole_registry_labels_projects_by_id() {
        let network = analyse(&fixture(), None).unwrap();
        assert_eq!(network.organizations.len(), 5);
        assert_eq!(network.clusters.len(), 4);
        let cluster = network.clusters.iter().find(|c| c.projects == ["other/X"]);
        assert_eq!(
            cluster.map(|c| c.organizations.clone()),
            Some(vec!["o5".to_string()])
        );
        assert_eq!(
            network.tables()[4].rows[0][0],
            Cell::Text("prog/A".into()),
            "two programmes: codes could clash"
        );
    }

    #[test]
    fn the_graph_has_every_node_and_edge_kind() {
        let graph = analyse(&fixture(), Some("prog")).unwrap().graph();
        assert_eq!(graph.nodes.len(), 8);
        let d = graph.nodes.iter().find(|n| n.id == "prog/D").unwrap();
        assert_eq!((d.kind, d.degree, d.cluster), (NodeKind::Project, 0, 3));
        let count = |kind| graph.edges.iter().filter(|e| e.kind == kind).count();
        assert_eq!(count(EdgeKind::Partnership), 6);
        assert_eq!(count(EdgeKind::SharedProjects), 3);
        assert_eq!(count(EdgeKind::SharedPartners), 1);
        let lead = &graph.edges[0];
        assert_eq!(
            (
                lead.source.as_str(),
                lead.target.as_str(),
                lead.roles.as_slice()
            ),
            (
                "o1",
                "prog/A",
                &[PartnerRole::Lead, PartnerRole::ManagingBody][..]
            )
        );
        let json = serde_json::to_value(&graph).unwrap();
        assert_eq!(json["edges"][0]["kind"], "partnership");
    }

    #[test]
    fn union_find_joins_transitively() {
        let mut uf = UnionFind::new(5);
        uf.union(0, 1);
        uf.union(3, 4);
        uf.union(1, 4);
        assert_eq!(uf.find(0), uf.find(3));
        assert_ne!(uf.find(0), uf.find(2));
    }

    fn service(id: &str, org: &str, zone: &str, target: &str, code: &str) -> ServiceRow {
        ServiceRow {
            service_id: id.into(),
            organization_id: org.into(),
            zone_code: zone.into(),
            target_group: target.into(),
            taxonomy_code: code.into(),
        }
    }

    #[test]
    fn overlapping_services_of_different_providers_are_grouped_and_paired() {
        let rows = [
            service("s1", "a", "Z1", "elderly", "D1.2"),
            service("s2", "b", "Z1", "elderly", "D1.7"),
            service("s3", "a", "Z1", "elderly", "D1.9"),
            service("s4", "c", "Z2", "elderly", "D1.1"),
            service("s5", "d", "Z1", "minors", "D1.1"),
            service("s6", "e", "Z1", "elderly", " "),
            service("s7", "f", "Z1", "elderly", "X9"),
            service("s8", "a", " Z1 ", "elderly ", "D1.3"),
            service("s9", "g", "Z3", "minors", "D2"),
            service("s10", "g", "Z3", "minors", "D2.1"),
        ];
        let category = |code: &str| {
            code.starts_with('D')
                .then(|| code.split('.').next().unwrap_or(code).to_string())
        };
        let overlaps = service_overlaps(&rows, category);
        let tables = overlaps.tables();
        check(
            &tables[0],
            "
Services of different providers on the same zone, target group and risk
zone_code  target_group  risk_category  providers  services  service_list
---------  ------------  -------------  ---------  --------  ------------------------------
Z1         elderly       D1                     2         4  s1 (a), s2 (b), s3 (a), s8 (a)",
        );
        check(
            &tables[1],
            "
Overlapping pairs of services
zone_code  target_group  risk_category  service_a  organization_a  service_b  organization_b
---------  ------------  -------------  ---------  --------------  ---------  --------------
Z1         elderly       D1             s1         a               s2         b
Z1         elderly       D1             s2         b               s3         a
Z1         elderly       D1             s2         b               s8         a",
        );
        check(
            &tables[2],
            "
Services left out of the comparison
service_id  reason
----------  ----------------------------------------------
s6          taxonomy_code is empty
s7          taxonomy code 'X9' has no social-risk category",
        );
    }

    #[test]
    fn exact_codes_and_no_rows() {
        let rows = [
            service("s1", "a", "Z1", "elderly", "D1.2"),
            service("s2", "b", "Z1", "elderly", "D1.7"),
        ];
        let overlaps = service_overlaps(&rows, |code| Some(code.to_string()));
        assert!(overlaps.groups.is_empty() && overlaps.pairs.is_empty());
        let empty = service_overlaps(&[], |code| Some(code.to_string()));
        assert!(empty.groups.is_empty() && empty.skipped.is_empty());
    }
}
