//! HSDS 3.0 JSON: an array of service objects, each with its organization, its
//! service-at-locations (with their locations, addresses and schedules), schedules, cost
//! options, funding, service areas, contacts, phones and attributes nested as HSDS 3.0 nests
//! them.
//!
//! Our extensions are `x_`-prefixed properties: fields (`x_kind`, `x_verified_at`, `x_zone`,
//! ...) and arrays of extension objects (`x_operators` on organizations and services,
//! `x_capacities` on service-at-locations, `x_relations` on the provider organization). An
//! organization that the file needs but that provides no service in it (a parent, the
//! commissioner of a contract) is nested once where it is referred to, as
//! `x_parent_organization` or `x_commissioner`, with its scalar fields and identifiers only.
//! Service taxonomy codes are HSDS `attributes` whose `taxonomy_term` belongs to the
//! `datalab-social-risk` or `datalab-target-group` taxonomy.
//!
//! The file is service-centred: organizations, locations and contacts not reachable from a
//! service are not in it (the datapackage and plain CSV hold everything). Output is
//! deterministic: objects ordered by id, keys sorted, numbers as `serde_json` writes them.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::codes::{FixedTerm, LinkEntity, SocialRisk, TargetGroup, fixed_term};
use crate::error::{RegistryError, Result};
use crate::import::{Imported, Item, Pos, apply};
use crate::model::{
    ADDRESSES, ATTRIBUTES, CAPACITIES, CONTACTS, COST_OPTIONS, FUNDING, LOCATIONS, OPERATORS,
    ORGANIZATION_IDENTIFIERS, ORGANIZATIONS, PHONES, RELATIONS, SCHEDULES, SERVICE_AREAS,
    SERVICE_AT_LOCATIONS, SERVICES, TABLES, TAXONOMY_TERMS,
};
use crate::record::{ColType, Hsds, Row, TableDef, canon, sorted, to_record_value};
use crate::store::Registry;

/// Who owns a schedule, contact, phone, funding or operator row when it names several owners:
/// the first column set in these lists.
const SCHEDULE_OWNERS: &[&str] = &["service_at_location_id", "service_id", "location_id"];
const CONTACT_OWNERS: &[&str] = &[
    "service_at_location_id",
    "service_id",
    "location_id",
    "organization_id",
];
const PHONE_OWNERS: &[&str] = &[
    "service_at_location_id",
    "service_id",
    "location_id",
    "contact_id",
    "organization_id",
];
const SERVICE_FIRST: &[&str] = &["service_id", "organization_id"];

/// `link_type` of the attributes that carry a service's social risks.
pub const LINK_TYPE_RISK: &str = "social_risk";
/// `link_type` of the attributes that carry a service's target groups.
pub const LINK_TYPE_TARGET_GROUP: &str = "target_group";

pub(crate) fn text<'r>(row: &'r Row, column: &str) -> Option<&'r str> {
    row.get(column).and_then(Value::as_str)
}

/// Every row of the registry, with an index of children by reference.
pub(crate) struct Data {
    rows: HashMap<&'static str, Vec<Row>>,
    children: HashMap<(&'static str, &'static str, String), Vec<usize>>,
}

impl Data {
    pub(crate) fn load(reg: &Registry) -> Result<Data> {
        let mut rows = HashMap::new();
        let mut children: HashMap<(&'static str, &'static str, String), Vec<usize>> =
            HashMap::new();
        for def in TABLES {
            let table_rows = reg.rows(def)?;
            for (i, row) in table_rows.iter().enumerate() {
                for c in def.columns {
                    let linked =
                        c.refers.is_some() || (def.table == "attributes" && c.name == "link_id");
                    if linked && let Some(id) = text(row, c.name) {
                        children
                            .entry((def.table, c.name, id.to_string()))
                            .or_default()
                            .push(i);
                    }
                }
            }
            rows.insert(def.table, table_rows);
        }
        Ok(Data { rows, children })
    }

    pub(crate) fn all(&self, table: &str) -> &[Row] {
        self.rows.get(table).map_or(&[], Vec::as_slice)
    }

    fn find(&self, table: &str, id: &str) -> Option<&Row> {
        let rows = self.all(table);
        rows.binary_search_by(|r| text(r, "id").unwrap_or_default().cmp(id))
            .ok()
            .map(|i| &rows[i])
    }

    /// Rows of `table` whose `column` is `id`, ordered by id.
    fn children(&self, table: &'static str, column: &'static str, id: &str) -> Vec<&Row> {
        let rows = self.all(table);
        self.children
            .get(&(table, column, id.to_string()))
            .map(|ix| ix.iter().map(|&i| &rows[i]).collect())
            .unwrap_or_default()
    }

    /// Children whose first owner (in `owners` order) is `column`.
    fn owned(
        &self,
        table: &'static str,
        column: &'static str,
        id: &str,
        owners: &[&str],
    ) -> Vec<&Row> {
        self.children(table, column, id)
            .into_iter()
            .filter(|r| owners.iter().find(|c| text(r, c).is_some()) == Some(&column))
            .collect()
    }

    /// HSDS attribute rows: the stored ones and those that carry the services' social risks
    /// and target groups, ordered by id.
    pub(crate) fn all_attributes(&self) -> Vec<Row> {
        let mut out: Vec<Row> = self.all("attributes").to_vec();
        for service in self.all("services") {
            out.extend(derived_attributes(service));
        }
        out.sort_by(|a, b| text(a, "id").cmp(&text(b, "id")));
        out
    }

    fn attributes_of(&self, entity: LinkEntity, id: &str) -> Vec<Row> {
        let mut out: Vec<Row> = self
            .children("attributes", "link_id", id)
            .into_iter()
            .filter(|r| text(r, "link_entity") == Some(entity.code()))
            .cloned()
            .collect();
        if entity == LinkEntity::Service
            && let Some(service) = self.find("services", id)
        {
            out.extend(derived_attributes(service));
            out.sort_by(|a, b| text(a, "id").cmp(&text(b, "id")));
        }
        out
    }
}

/// The attribute rows of a service's social risks and target groups.
pub(crate) fn derived_attributes(service: &Row) -> Vec<Row> {
    let Some(id) = text(service, "id") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let codes = |column: &str| -> Vec<String> {
        text(service, column)
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    };
    let mut terms: Vec<(String, &str)> = Vec::new();
    for code in codes("risks") {
        if let Some(r) = SocialRisk::from_code(&code) {
            terms.push((r.term_id(), LINK_TYPE_RISK));
        }
    }
    for code in codes("target_groups") {
        if let Some(g) = TargetGroup::from_code(&code) {
            terms.push((g.term_id(), LINK_TYPE_TARGET_GROUP));
        }
    }
    for (term, link_type) in terms {
        let mut row = Row::new();
        row.insert("id".into(), Value::String(format!("{id}/{term}")));
        row.insert("link_id".into(), Value::String(id.to_string()));
        row.insert("taxonomy_term_id".into(), Value::String(term));
        row.insert("link_type".into(), Value::String(link_type.to_string()));
        row.insert(
            "link_entity".into(),
            Value::String(LinkEntity::Service.code().to_string()),
        );
        row.insert("value".into(), Value::Null);
        out.push(row);
    }
    out
}

/// The HSDS fields of a row (nulls left out).
pub(crate) fn hsds_object(def: &TableDef, row: &Row) -> Map<String, Value> {
    let mut out = Map::new();
    for (c, name) in def.hsds_columns() {
        let v = to_record_value(c, row.get(c.name).cloned().unwrap_or(Value::Null));
        if !v.is_null() {
            out.insert(name, v);
        }
    }
    out
}

fn put(obj: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        obj.insert(key.to_string(), Value::Array(items));
    }
}

struct Exporter<'a> {
    data: &'a Data,
}

impl Exporter<'_> {
    fn plain(&self, def: &TableDef, rows: Vec<&Row>) -> Vec<Value> {
        rows.into_iter()
            .map(|r| Value::Object(hsds_object(def, r)))
            .collect()
    }

    fn attributes(&self, entity: LinkEntity, id: &str) -> Vec<Value> {
        self.data
            .attributes_of(entity, id)
            .iter()
            .map(|a| {
                let mut obj = hsds_object(&ATTRIBUTES, a);
                if let Some(term) =
                    text(a, "taxonomy_term_id").and_then(|t| self.data.find("taxonomy_terms", t))
                {
                    obj.insert(
                        "taxonomy_term".into(),
                        Value::Object(hsds_object(&TAXONOMY_TERMS, term)),
                    );
                }
                Value::Object(obj)
            })
            .collect()
    }

    fn phones(&self, column: &'static str, id: &str) -> Vec<Value> {
        self.plain(&PHONES, self.data.owned("phones", column, id, PHONE_OWNERS))
    }

    fn contacts(&self, column: &'static str, id: &str) -> Vec<Value> {
        self.data
            .owned("contacts", column, id, CONTACT_OWNERS)
            .into_iter()
            .map(|c| {
                let mut obj = hsds_object(&CONTACTS, c);
                let cid = text(c, "id").unwrap_or_default();
                put(&mut obj, "phones", self.phones("contact_id", cid));
                Value::Object(obj)
            })
            .collect()
    }

    fn schedules(&self, column: &'static str, id: &str) -> Vec<Value> {
        self.plain(
            &SCHEDULES,
            self.data.owned("schedules", column, id, SCHEDULE_OWNERS),
        )
    }

    /// An organization's scalar fields and identifiers, and its parent's the same way.
    fn shallow_org(&self, id: &str, visited: &mut Vec<String>) -> Option<Map<String, Value>> {
        let row = self.data.find("organizations", id)?;
        visited.push(id.to_string());
        let mut obj = hsds_object(&ORGANIZATIONS, row);
        put(
            &mut obj,
            "organization_identifiers",
            self.plain(
                &ORGANIZATION_IDENTIFIERS,
                self.data
                    .children("organization_identifiers", "organization_id", id),
            ),
        );
        if let Some(parent) = text(row, "parent_organization_id")
            && !visited.iter().any(|v| v == parent)
            && let Some(p) = self.shallow_org(parent, visited)
        {
            obj.insert("x_parent_organization".into(), Value::Object(p));
        }
        Some(obj)
    }

    fn org(&self, id: &str) -> Option<Map<String, Value>> {
        let mut obj = self.shallow_org(id, &mut Vec::new())?;
        put(
            &mut obj,
            "funding",
            self.plain(
                &FUNDING,
                self.data
                    .owned("funding", "organization_id", id, SERVICE_FIRST),
            ),
        );
        put(&mut obj, "contacts", self.contacts("organization_id", id));
        put(&mut obj, "phones", self.phones("organization_id", id));
        put(
            &mut obj,
            "attributes",
            self.attributes(LinkEntity::Organization, id),
        );
        put(
            &mut obj,
            "x_operators",
            self.plain(
                &OPERATORS,
                self.data
                    .owned("operators", "organization_id", id, SERVICE_FIRST),
            ),
        );
        let relations = self
            .data
            .children("relations", "provider_id", id)
            .into_iter()
            .map(|r| {
                let mut rel = hsds_object(&RELATIONS, r);
                if let Some(c) = text(r, "commissioner_id")
                    .and_then(|c| self.shallow_org(c, &mut vec![id.to_string()]))
                {
                    rel.insert("x_commissioner".into(), Value::Object(c));
                }
                Value::Object(rel)
            })
            .collect();
        put(&mut obj, "x_relations", relations);
        Some(obj)
    }

    fn location(&self, id: &str) -> Option<Map<String, Value>> {
        let row = self.data.find("locations", id)?;
        let mut obj = hsds_object(&LOCATIONS, row);
        put(
            &mut obj,
            "addresses",
            self.plain(
                &ADDRESSES,
                self.data.children("addresses", "location_id", id),
            ),
        );
        put(&mut obj, "schedules", self.schedules("location_id", id));
        put(&mut obj, "contacts", self.contacts("location_id", id));
        put(&mut obj, "phones", self.phones("location_id", id));
        put(
            &mut obj,
            "attributes",
            self.attributes(LinkEntity::Location, id),
        );
        Some(obj)
    }

    fn service(&self, row: &Row) -> Value {
        let id = text(row, "id").unwrap_or_default();
        let mut obj = hsds_object(&SERVICES, row);
        if let Some(org) = text(row, "organization_id").and_then(|o| self.org(o)) {
            obj.insert("organization".into(), Value::Object(org));
        }
        let sals = self
            .data
            .children("service_at_locations", "service_id", id)
            .into_iter()
            .map(|sal| {
                let sid = text(sal, "id").unwrap_or_default();
                let mut s = hsds_object(&SERVICE_AT_LOCATIONS, sal);
                if let Some(loc) = text(sal, "location_id").and_then(|l| self.location(l)) {
                    s.insert("location".into(), Value::Object(loc));
                }
                put(
                    &mut s,
                    "schedules",
                    self.schedules("service_at_location_id", sid),
                );
                put(
                    &mut s,
                    "contacts",
                    self.contacts("service_at_location_id", sid),
                );
                put(&mut s, "phones", self.phones("service_at_location_id", sid));
                put(
                    &mut s,
                    "attributes",
                    self.attributes(LinkEntity::ServiceAtLocation, sid),
                );
                put(
                    &mut s,
                    "x_capacities",
                    self.plain(
                        &CAPACITIES,
                        self.data
                            .children("capacities", "service_at_location_id", sid),
                    ),
                );
                Value::Object(s)
            })
            .collect();
        put(&mut obj, "service_at_locations", sals);
        put(&mut obj, "schedules", self.schedules("service_id", id));
        put(
            &mut obj,
            "cost_options",
            self.plain(
                &COST_OPTIONS,
                self.data.children("cost_options", "service_id", id),
            ),
        );
        put(
            &mut obj,
            "funding",
            self.plain(
                &FUNDING,
                self.data.owned("funding", "service_id", id, SERVICE_FIRST),
            ),
        );
        put(
            &mut obj,
            "service_areas",
            self.plain(
                &SERVICE_AREAS,
                self.data.children("service_areas", "service_id", id),
            ),
        );
        put(&mut obj, "contacts", self.contacts("service_id", id));
        put(&mut obj, "phones", self.phones("service_id", id));
        put(
            &mut obj,
            "attributes",
            self.attributes(LinkEntity::Service, id),
        );
        put(
            &mut obj,
            "x_operators",
            self.plain(
                &OPERATORS,
                self.data
                    .owned("operators", "service_id", id, SERVICE_FIRST),
            ),
        );
        Value::Object(obj)
    }
}

impl Registry {
    /// The registry as HSDS 3.0 JSON: an array of service objects (see [`crate::hsds`]).
    pub fn hsds_json(&self) -> Result<String> {
        let data = Data::load(self)?;
        let exporter = Exporter { data: &data };
        let services: Vec<Value> = data
            .all("services")
            .iter()
            .map(|s| exporter.service(s))
            .collect();
        let mut text = serde_json::to_string_pretty(&sorted(Value::Array(services)))
            .map_err(|e| RegistryError::Storage(format!("hsds json: {e}")))?;
        text.push('\n');
        Ok(text)
    }

    /// Writes [`Registry::hsds_json`] to a file.
    pub fn export_hsds_json(&self, path: &Path) -> Result<()> {
        let text = self.hsds_json()?;
        std::fs::write(path, text).map_err(|e| RegistryError::io(path, &e))
    }

    /// Imports an HSDS 3.0 JSON file (an array of service objects), all or nothing. Records are
    /// added or replaced by id; fields HSDS has and this registry does not model are ignored.
    pub fn import_hsds_json(&mut self, path: &Path, by: &str) -> Result<Imported> {
        let text = std::fs::read_to_string(path).map_err(|e| RegistryError::io(path, &e))?;
        self.import_hsds_json_str(&text, &path.display().to_string(), by)
    }

    /// Imports HSDS 3.0 JSON text; `file` names it in errors.
    pub fn import_hsds_json_str(&mut self, text: &str, file: &str, by: &str) -> Result<Imported> {
        let value: Value = serde_json::from_str(text).map_err(|e| RegistryError::Input {
            file: file.to_string(),
            line: Some(e.line() as u64),
            field: "(json)".into(),
            message: e.to_string().to_lowercase(),
        })?;
        let mut reader = JsonReader {
            file,
            items: Vec::new(),
        };
        let Value::Array(services) = &value else {
            return Err(reader
                .pos("$")
                .error("$".into(), "expected an array of service objects"));
        };
        for (i, s) in services.iter().enumerate() {
            let path = format!("$[{i}]");
            let Value::Object(obj) = s else {
                return Err(reader
                    .pos(&path)
                    .error(path.clone(), "expected a service object"));
            };
            reader.service(obj, &path)?;
        }
        let items = reader.items;
        apply(self, by, items)
    }
}

type Obj = Map<String, Value>;

struct JsonReader<'f> {
    file: &'f str,
    items: Vec<Item>,
}

impl JsonReader<'_> {
    fn pos(&self, path: &str) -> Pos {
        Pos {
            file: self.file.to_string(),
            line: None,
            path: Some(path.to_string()),
            hsds: true,
        }
    }

    /// The objects of an array property (absent or null: none).
    fn objects<'v>(&self, obj: &'v Obj, key: &str, path: &str) -> Result<Vec<(&'v Obj, String)>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let p = format!("{path}.{key}[{i}]");
                    match v {
                        Value::Object(o) => Ok((o, p)),
                        _ => Err(self.pos(&p).error(p.clone(), "expected an object")),
                    }
                })
                .collect(),
            Some(_) => {
                let p = format!("{path}.{key}");
                Err(self.pos(&p).error(p.clone(), "expected an array"))
            }
        }
    }

    /// A nested object property (absent or null: none).
    fn nested<'v>(&self, obj: &'v Obj, key: &str, path: &str) -> Result<Option<(&'v Obj, String)>> {
        let p = format!("{path}.{key}");
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some((o, p))),
            Some(_) => Err(self.pos(&p).error(p.clone(), "expected an object")),
        }
    }

    /// The canonical row of an HSDS object. `context` fills references the nesting implies
    /// (and checks them where the object repeats them).
    fn row(
        &self,
        def: &'static TableDef,
        obj: &Obj,
        path: &str,
        context: &[(&str, Option<&str>)],
    ) -> Result<Row> {
        let pos = self.pos(path);
        let mut row = Row::new();
        for c in def.columns {
            let v = match c.hsds_name() {
                Some(name) => obj.get(&name).unwrap_or(&Value::Null),
                None => &Value::Null,
            };
            let v = canon(c.ty, v).map_err(|m| pos.error(pos.field(def, c.name), m))?;
            row.insert(c.name.to_string(), c.or_default(v));
        }
        for (column, id) in context {
            let Some(id) = id else { continue };
            match row.get(*column) {
                Some(Value::String(given)) if given != id => {
                    return Err(pos.error(
                        pos.field(def, column),
                        format!("`{given}` does not match the enclosing object `{id}`"),
                    ));
                }
                Some(Value::String(_)) => {}
                _ => {
                    row.insert(column.to_string(), Value::String(id.to_string()));
                }
            }
        }
        for c in def.columns {
            if c.required && c.hsds != Hsds::Omitted && row.get(c.name).is_none_or(Value::is_null) {
                return Err(pos.error(pos.field(def, c.name), "missing required field"));
            }
        }
        Ok(row)
    }

    fn push(&mut self, def: &'static TableDef, row: Row, path: &str) -> String {
        let id = text(&row, "id").unwrap_or_default().to_string();
        let pos = self.pos(path);
        self.items.push(Item { def, row, pos });
        id
    }

    /// Reads plain children (no nesting of their own) of one table.
    fn plain(
        &mut self,
        def: &'static TableDef,
        obj: &Obj,
        key: &str,
        path: &str,
        context: &[(&str, Option<&str>)],
    ) -> Result<()> {
        for (o, p) in self.objects(obj, key, path)? {
            let row = self.row(def, o, &p, context)?;
            self.push(def, row, &p);
        }
        Ok(())
    }

    fn service(&mut self, obj: &Obj, path: &str) -> Result<()> {
        let org = match self.nested(obj, "organization", path)? {
            Some((o, p)) => Some(self.organization(o, &p)?),
            None => None,
        };
        let mut row = self.row(&SERVICES, obj, path, &[("organization_id", org.as_deref())])?;
        let id = text(&row, "id").unwrap_or_default().to_string();
        let sid = Some(id.as_str());
        for (o, p) in self.objects(obj, "service_at_locations", path)? {
            self.service_at_location(o, &p, &id)?;
        }
        let ctx = [("service_id", sid)];
        self.plain(&SCHEDULES, obj, "schedules", path, &ctx)?;
        self.plain(&COST_OPTIONS, obj, "cost_options", path, &ctx)?;
        self.plain(&FUNDING, obj, "funding", path, &ctx)?;
        self.plain(&SERVICE_AREAS, obj, "service_areas", path, &ctx)?;
        self.plain(&PHONES, obj, "phones", path, &ctx)?;
        self.plain(&OPERATORS, obj, "x_operators", path, &ctx)?;
        self.contacts(obj, path, &ctx)?;
        let terms = self.attributes(obj, path, LinkEntity::Service, &id)?;
        let pos = self.pos(path);
        fold_terms(&mut row, &terms).map_err(|m| pos.error(pos.raw_field("attributes"), m))?;
        if row.get("risks").is_none_or(Value::is_null) {
            return Err(pos.error(
                pos.raw_field("attributes"),
                "at least one attribute with a term of the datalab-social-risk taxonomy is required",
            ));
        }
        self.push(&SERVICES, row, path);
        Ok(())
    }

    fn organization(&mut self, obj: &Obj, path: &str) -> Result<String> {
        let parent = match self.nested(obj, "x_parent_organization", path)? {
            Some((o, p)) => Some(self.organization(o, &p)?),
            None => None,
        };
        let row = self.row(
            &ORGANIZATIONS,
            obj,
            path,
            &[("parent_organization_id", parent.as_deref())],
        )?;
        let id = self.push(&ORGANIZATIONS, row, path);
        let ctx = [("organization_id", Some(id.as_str()))];
        self.plain(
            &ORGANIZATION_IDENTIFIERS,
            obj,
            "organization_identifiers",
            path,
            &ctx,
        )?;
        self.plain(&FUNDING, obj, "funding", path, &ctx)?;
        self.plain(&PHONES, obj, "phones", path, &ctx)?;
        self.plain(&OPERATORS, obj, "x_operators", path, &ctx)?;
        self.contacts(obj, path, &ctx)?;
        for (o, p) in self.objects(obj, "x_relations", path)? {
            let commissioner = match self.nested(o, "x_commissioner", &p)? {
                Some((c, cp)) => Some(self.organization(c, &cp)?),
                None => None,
            };
            let row = self.row(
                &RELATIONS,
                o,
                &p,
                &[
                    ("provider_id", Some(id.as_str())),
                    ("commissioner_id", commissioner.as_deref()),
                ],
            )?;
            self.push(&RELATIONS, row, &p);
        }
        self.no_fixed_terms(obj, path, LinkEntity::Organization, &id)?;
        Ok(id)
    }

    fn service_at_location(&mut self, obj: &Obj, path: &str, service: &str) -> Result<()> {
        let location = match self.nested(obj, "location", path)? {
            Some((o, p)) => Some(self.location(o, &p)?),
            None => None,
        };
        let row = self.row(
            &SERVICE_AT_LOCATIONS,
            obj,
            path,
            &[
                ("service_id", Some(service)),
                ("location_id", location.as_deref()),
            ],
        )?;
        let id = self.push(&SERVICE_AT_LOCATIONS, row, path);
        let ctx = [("service_at_location_id", Some(id.as_str()))];
        self.plain(&SCHEDULES, obj, "schedules", path, &ctx)?;
        self.plain(&PHONES, obj, "phones", path, &ctx)?;
        self.plain(&CAPACITIES, obj, "x_capacities", path, &ctx)?;
        self.contacts(obj, path, &ctx)?;
        self.no_fixed_terms(obj, path, LinkEntity::ServiceAtLocation, &id)
    }

    fn location(&mut self, obj: &Obj, path: &str) -> Result<String> {
        let row = self.row(&LOCATIONS, obj, path, &[])?;
        let id = self.push(&LOCATIONS, row, path);
        let ctx = [("location_id", Some(id.as_str()))];
        self.plain(&ADDRESSES, obj, "addresses", path, &ctx)?;
        self.plain(&SCHEDULES, obj, "schedules", path, &ctx)?;
        self.plain(&PHONES, obj, "phones", path, &ctx)?;
        self.contacts(obj, path, &ctx)?;
        self.no_fixed_terms(obj, path, LinkEntity::Location, &id)?;
        Ok(id)
    }

    fn contacts(&mut self, obj: &Obj, path: &str, context: &[(&str, Option<&str>)]) -> Result<()> {
        for (o, p) in self.objects(obj, "contacts", path)? {
            let row = self.row(&CONTACTS, o, &p, context)?;
            let id = self.push(&CONTACTS, row, &p);
            self.plain(
                &PHONES,
                o,
                "phones",
                &p,
                &[("contact_id", Some(id.as_str()))],
            )?;
        }
        Ok(())
    }

    /// Reads the attributes of an object; returns the fixed taxonomy terms among them (which
    /// are not stored as attributes).
    fn attributes(
        &mut self,
        obj: &Obj,
        path: &str,
        entity: LinkEntity,
        id: &str,
    ) -> Result<Vec<FixedTerm>> {
        let mut fixed = Vec::new();
        for (o, p) in self.objects(obj, "attributes", path)? {
            let term = match self.nested(o, "taxonomy_term", &p)? {
                Some((t, tp)) => {
                    let row = self.row(&TAXONOMY_TERMS, t, &tp, &[])?;
                    Some(self.push(&TAXONOMY_TERMS, row, &tp))
                }
                None => None,
            };
            let row = self.row(
                &ATTRIBUTES,
                o,
                &p,
                &[
                    ("link_id", Some(id)),
                    ("link_entity", Some(entity.code())),
                    ("taxonomy_term_id", term.as_deref()),
                ],
            )?;
            let term_id = text(&row, "taxonomy_term_id").unwrap_or_default();
            match fixed_term(term_id) {
                Some(f) => fixed.push(f),
                None => {
                    self.push(&ATTRIBUTES, row, &p);
                }
            }
        }
        Ok(fixed)
    }

    fn no_fixed_terms(
        &mut self,
        obj: &Obj,
        path: &str,
        entity: LinkEntity,
        id: &str,
    ) -> Result<()> {
        if !self.attributes(obj, path, entity, id)?.is_empty() {
            let p = format!("{path}.attributes");
            return Err(self.pos(&p).error(
                p.clone(),
                "social risks and target groups are attributes of services only",
            ));
        }
        Ok(())
    }
}

/// Sets a service row's `risks` and `target_groups` from the fixed taxonomy terms of its
/// attributes.
pub(crate) fn fold_terms(
    service: &mut Row,
    terms: &[FixedTerm],
) -> std::result::Result<(), String> {
    let mut risks = Vec::new();
    let mut groups = Vec::new();
    for term in terms {
        match term {
            FixedTerm::Risk(r) => risks.push(Value::String(r.code().into())),
            FixedTerm::Group(g) => groups.push(Value::String(g.code().into())),
        }
    }
    for (column, codes) in [("risks", risks), ("target_groups", groups)] {
        let ty = SERVICES.column(column).map_or(ColType::Text, |c| c.ty);
        service.insert(column.to_string(), canon(ty, &Value::Array(codes))?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Organization, Service};
    use crate::testutil::registry;

    #[test]
    fn json_round_trip_is_byte_identical() {
        let reg = registry();
        let first = reg.hsds_json().unwrap();
        let mut copy = Registry::open_in_memory().unwrap();
        let imported = copy
            .import_hsds_json_str(&first, "registry.json", "test")
            .unwrap();
        assert!(imported.total() > 20, "{imported:?}");
        let second = copy.hsds_json().unwrap();
        assert_eq!(first, second);
        // Everything reachable from a service survived, extensions included.
        assert_eq!(
            copy.list::<crate::Relation>().unwrap(),
            reg.list::<crate::Relation>().unwrap()
        );
        assert_eq!(
            copy.list::<crate::Capacity>().unwrap(),
            reg.list::<crate::Capacity>().unwrap()
        );
        assert_eq!(
            copy.list::<Service>().unwrap(),
            reg.list::<Service>().unwrap()
        );
        // The holding and the health authority came along as parent and commissioner.
        assert!(copy.get::<Organization>("o-holding").unwrap().is_some());
        assert!(copy.get::<Organization>("o-asl").unwrap().is_some());
    }

    /// Regression: serde_json's default float parsing is not correctly rounded, so a
    /// coordinate with 17 significant digits came back one unit in the last place off and the
    /// second export differed (found by the search benchmark's generated registry).
    #[test]
    fn json_round_trip_keeps_every_bit_of_coordinates() {
        let mut reg = registry();
        reg.edit("test", |e| {
            let mut l = e.get::<crate::Location>("l-faro")?.unwrap();
            (l.latitude, l.longitude) = (Some(44.483762481405996), Some(11.365826926139789));
            e.upsert(&l)
        })
        .unwrap();
        let first = reg.hsds_json().unwrap();
        assert!(first.contains("44.483762481405996"), "{first}");
        let mut copy = Registry::open_in_memory().unwrap();
        copy.import_hsds_json_str(&first, "registry.json", "test")
            .unwrap();
        assert_eq!(copy.hsds_json().unwrap(), first);
    }

    #[test]
    fn json_shape_follows_hsds() {
        let reg = registry();
        let v: Value = serde_json::from_str(&reg.hsds_json().unwrap()).unwrap();
        let day = v
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "s-day-centre")
            .unwrap();
        assert_eq!(
            day["organization"]["legal_status"],
            "cooperativa sociale di tipo A"
        );
        assert_eq!(day["organization"]["x_kind"], "third_sector");
        assert_eq!(
            day["service_at_locations"][0]["location"]["addresses"][0]["address_1"],
            "Via del Porto 10"
        );
        assert_eq!(day["service_at_locations"][0]["location"]["x_zone"], "Z02");
        assert_eq!(
            day["service_at_locations"][0]["schedules"][0]["opens_at"],
            "08:30:00"
        );
        assert_eq!(
            day["service_at_locations"][0]["x_capacities"][0]["waiting_list"],
            8
        );
        assert_eq!(day["cost_options"][0]["amount"], 120.5);
        assert_eq!(day["x_free"], false);
        let attr = &day["attributes"][1];
        assert_eq!(attr["taxonomy_term"]["code"], "elderly");
        assert_eq!(attr["link_type"], "target_group");
        let rel = &day["organization"]["x_relations"][1];
        assert_eq!(rel["id"], "r-asl");
        assert_eq!(
            rel["x_commissioner"]["name"],
            "Azienda Sanitaria di Esempio"
        );
        let shelter = v
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "s-shelter")
            .unwrap();
        assert_eq!(
            shelter["organization"]["x_parent_organization"]["organization_identifiers"][0]["identifier_type"],
            "REA"
        );
    }

    fn minimal(extra: &str) -> String {
        format!(
            r#"[{{"id": "s1", "name": "Mensa", "status": "active",
                "organization": {{"id": "o1", "name": "Caritas di Esempio", "description": "x"}},
                "attributes": [{{"id": "a1", "taxonomy_term": {{"id": "datalab-social-risk:poverty", "name": "Poverty and material deprivation", "description": "Poverty and material deprivation (it: Povertà e deprivazione materiale)", "code": "poverty", "taxonomy": "datalab social risks", "language": "en", "taxonomy_id": "datalab-social-risk"}}}}]
                {extra}}}]"#
        )
    }

    #[test]
    fn foreign_json_fills_references_from_nesting() {
        let mut reg = Registry::open_in_memory().unwrap();
        let text = minimal(
            r#", "service_at_locations": [{"id": "sal1", "location": {"id": "l1", "location_type": "physical", "latitude": 44.5, "longitude": 11.3, "schedules": [{"id": "sch1", "byday": "MO", "opens_at": "12:00", "closes_at": "14:00Z"}]}}],
               "languages": [{"id": "lang1", "name": "Italian"}]"#,
        );
        reg.import_hsds_json_str(&text, "feed.json", "test")
            .unwrap();
        let s = reg.get::<Service>("s1").unwrap().unwrap();
        assert_eq!(s.organization_id, "o1");
        assert_eq!(s.risks, vec![SocialRisk::Poverty]);
        let sal = reg
            .get::<crate::ServiceAtLocation>("sal1")
            .unwrap()
            .unwrap();
        assert_eq!(
            (sal.service_id.as_str(), sal.location_id.as_str()),
            ("s1", "l1")
        );
        let sch = reg.get::<crate::Schedule>("sch1").unwrap().unwrap();
        assert_eq!(sch.location_id.as_deref(), Some("l1"));
        assert_eq!(sch.closes_at.unwrap().to_string(), "14:00:00");
    }

    fn check_error(text: &str, expect: &str) {
        let mut reg = registry();
        let before = reg.hsds_json().unwrap();
        let e = reg
            .import_hsds_json_str(text, "feed.json", "test")
            .unwrap_err();
        assert_eq!(e.to_string(), expect);
        assert!(matches!(e, RegistryError::Input { .. }));
        // All or nothing.
        assert_eq!(reg.hsds_json().unwrap(), before);
    }

    #[test]
    fn json_errors_name_the_path() {
        check_error(
            "{",
            "feed.json:1: (json): eof while parsing an object at line 1 column 1",
        );
        check_error("{}", "feed.json: $: expected an array of service objects");
        check_error(
            &minimal(r#", "minimum_age": "ten""#),
            "feed.json: $[0].minimum_age: expected a whole number of zero or more, found `ten`",
        );
        check_error(
            &minimal(r#", "cost_options": [{"id": "c1", "service_id": "s2", "amount": 3}]"#),
            "feed.json: $[0].cost_options[0].service_id: `s2` does not match the enclosing object `s1`",
        );
        check_error(
            &minimal(r#", "service_at_locations": [{"id": "sal1", "location_id": "nowhere"}]"#),
            "feed.json: $[0].service_at_locations[0].location_id: no location with id `nowhere`",
        );
        check_error(
            &minimal(r#", "funding": [{"id": "f1", "x_year": 20}]"#),
            "feed.json: $[0].funding[0].x_year: expected a four-digit year, found 20",
        );
        check_error(
            r#"[{"id": "s1", "name": "Mensa", "status": "active", "organization_id": "o-comune"}]"#,
            "feed.json: $[0].attributes: at least one attribute with a term of the datalab-social-risk taxonomy is required",
        );
        check_error(
            &minimal(r#", "organization_id": "o-comune""#),
            "feed.json: $[0].organization_id: `o-comune` does not match the enclosing object `o1`",
        );
    }

    #[test]
    fn conflicting_copies_are_refused() {
        let text = r#"[
            {"id": "s1", "name": "A", "status": "active", "organization": {"id": "o1", "name": "Uno"},
             "attributes": [{"id": "a1", "taxonomy_term_id": "datalab-social-risk:poverty"}]},
            {"id": "s2", "name": "B", "status": "active", "organization": {"id": "o1", "name": "Due"},
             "attributes": [{"id": "a2", "taxonomy_term_id": "datalab-social-risk:work"}]}]"#;
        check_error(
            text,
            "feed.json: $[1].organization: organization `o1` differs from its other copy at $[0].organization",
        );
    }

    #[test]
    fn fixed_terms_cannot_be_changed() {
        let text = minimal("").replace(
            "\"name\": \"Poverty and material deprivation\"",
            "\"name\": \"Poor people\"",
        );
        check_error(
            &text,
            "feed.json: $[0].attributes[0].taxonomy_term.id: `datalab-social-risk:poverty` belongs to datalab's fixed taxonomies and cannot be changed",
        );
    }

    #[test]
    fn fold_terms_sets_code_lists() {
        let mut row = Row::new();
        let terms = [
            FixedTerm::Risk(SocialRisk::Work),
            FixedTerm::Group(TargetGroup::Youth),
            FixedTerm::Risk(SocialRisk::Poverty),
        ];
        fold_terms(&mut row, &terms).unwrap();
        assert_eq!(row["risks"], Value::String("poverty,work".into()));
        assert_eq!(row["target_groups"], Value::String("youth".into()));
    }
}
