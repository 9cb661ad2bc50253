//! Re-identification for outreach, at the custodian only.
//!
//! The lab hands the custodian an outreach list: pseudonyms (e.g. households likely eligible for
//! a benefit they do not receive) and, in `#` comment lines at the top, the declared purpose and
//! who asked. The custodian, holding the key and its lookup tables, turns the pseudonyms back
//! into identifiers. Every pseudonym is re-computed from the identifier found with the key
//! version it names, so a lookup that does not belong to this key, or a forged list entry, is
//! caught; every run appends a hash-chained line to the custodian's audit log.

use crate::keys::KeyRing;
use crate::pipeline::LOOKUP_HEADER;
use crate::pseudonym;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The comment line that starts an outreach list.
pub const LIST_MAGIC: &str = "# datalab outreach list";

/// Why re-identification was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ReidentifyError {
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    Refused { path: PathBuf, message: String },
    #[error("{}:{line}: {message}", path.display())]
    BadLookup {
        path: PathBuf,
        line: u64,
        message: String,
    },
}

fn io(path: &Path, e: &dyn std::fmt::Display) -> ReidentifyError {
    ReidentifyError::Io {
        path: path.to_path_buf(),
        message: e.to_string().to_lowercase(),
    }
}

/// An outreach list as the lab writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutreachList {
    pub purpose: String,
    pub requested_by: String,
    pub lab: String,
    pub created_at: String,
    pub pseudonyms: Vec<String>,
}

impl OutreachList {
    /// The list as text: metadata comments, then a `pseudonym` column.
    pub fn to_text(&self) -> String {
        let clean = |s: &str| s.replace(['\n', '\r'], " ");
        let mut out = format!(
            "{LIST_MAGIC}\n# purpose: {}\n# requested_by: {}\n# lab: {}\n# created_at: {}\npseudonym\n",
            clean(&self.purpose),
            clean(&self.requested_by),
            clean(&self.lab),
            clean(&self.created_at)
        );
        for p in &self.pseudonyms {
            out.push_str(p);
            out.push('\n');
        }
        out
    }

    /// Reads a list; refuses one without a declared purpose or holding anything but pseudonyms.
    pub fn read(path: &Path) -> Result<OutreachList, ReidentifyError> {
        let refuse = |message: String| ReidentifyError::Refused {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| io(path, &e))?;
        let mut meta: HashMap<String, String> = HashMap::new();
        let mut pseudonyms = Vec::new();
        let mut header_seen = false;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if let Some(c) = line.strip_prefix('#') {
                if let Some((k, v)) = c.split_once(':') {
                    meta.insert(k.trim().to_lowercase(), v.trim().to_string());
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            if !header_seen {
                let first = line.split(',').next().unwrap_or("").trim();
                if first != "pseudonym" {
                    return Err(refuse(format!(
                        "line {}: expected the header `pseudonym`, found `{first}`",
                        i + 1
                    )));
                }
                header_seen = true;
                continue;
            }
            let p = line.split(',').next().unwrap_or("").trim();
            if !pseudonym::is_pseudonym(p) {
                return Err(refuse(format!(
                    "line {}: `{}` is not a pseudonym: an outreach list holds only pseudonyms",
                    i + 1,
                    p.chars().take(40).collect::<String>()
                )));
            }
            pseudonyms.push(p.to_string());
        }
        let purpose = meta.remove("purpose").unwrap_or_default();
        if purpose.chars().filter(|c| c.is_alphanumeric()).count() < 10 {
            return Err(refuse(
                "the list declares no purpose (a `# purpose:` line of at least a few words): re-identification is allowed only for a declared purpose; ask the lab to build the list with `datalab outreach --purpose`".into(),
            ));
        }
        Ok(OutreachList {
            purpose,
            requested_by: meta.remove("requested_by").unwrap_or_default(),
            lab: meta.remove("lab").unwrap_or_default(),
            created_at: meta.remove("created_at").unwrap_or_default(),
            pseudonyms,
        })
    }
}

/// One re-identified entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub pseudonym: String,
    pub kind: String,
    /// The tax code (or the plain identifier); for a weak pseudonym, the normalized
    /// `SURNAME|FIRST NAME|YYYY-MM-DD|SEX`.
    pub identifier: String,
}

/// What a re-identification did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub requested: usize,
    pub found: usize,
    /// Pseudonyms the lookups do not hold (made by another custodian's run, or stale).
    pub not_found: usize,
    pub people: Vec<Person>,
}

/// Turns the list's pseudonyms into identifiers with the key and the lookup tables.
pub fn reidentify(
    key: &KeyRing,
    list: &OutreachList,
    lookups: &[PathBuf],
) -> Result<Outcome, ReidentifyError> {
    if !list.lab.is_empty() && list.lab != key.lab {
        return Err(ReidentifyError::Refused {
            path: PathBuf::from("<list>"),
            message: format!(
                "the list comes from lab `{}` but the key belongs to lab `{}`",
                list.lab, key.lab
            ),
        });
    }
    let wanted: HashSet<&str> = list.pseudonyms.iter().map(String::as_str).collect();
    let mut found: HashMap<String, (String, u32, String)> = HashMap::new();
    for path in lookups {
        read_lookup(path, &wanted, &mut found)?;
    }
    let mut people = Vec::new();
    let mut not_found = 0;
    let mut seen = HashSet::new();
    for p in &list.pseudonyms {
        if !seen.insert(p.as_str()) {
            continue;
        }
        let Some((kind, version, identifier)) = found.get(p) else {
            not_found += 1;
            continue;
        };
        let info = pseudonym::parse(p).ok_or_else(|| ReidentifyError::Refused {
            path: PathBuf::from("<list>"),
            message: format!("`{p}` is not a pseudonym"),
        })?;
        let maker = key
            .pseudonymizer_for(info.version, kind, info.weak)
            .ok_or_else(|| ReidentifyError::Refused {
                path: PathBuf::from("<list>"),
                message: format!(
                    "`{p}` was made with key version {} which this key ({}) does not hold",
                    info.version, key.key_id
                ),
            })?;
        if info.version != *version || maker.pseudonym(identifier) != *p {
            return Err(ReidentifyError::Refused {
                path: PathBuf::from("<lookup>"),
                message: format!(
                    "the lookup entry for `{p}` does not match the key: the lookup belongs to another key or lab, or was altered"
                ),
            });
        }
        people.push(Person {
            pseudonym: p.clone(),
            kind: kind.clone(),
            identifier: identifier.clone(),
        });
    }
    Ok(Outcome {
        requested: seen.len(),
        found: people.len(),
        not_found,
        people,
    })
}

fn read_lookup(
    path: &Path,
    wanted: &HashSet<&str>,
    found: &mut HashMap<String, (String, u32, String)>,
) -> Result<(), ReidentifyError> {
    let paths: Vec<PathBuf> = if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| io(path, &e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "csv")
                    && !p.to_string_lossy().ends_with(".quarantine.csv")
            })
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    for p in paths {
        let mut r = csv::Reader::from_path(&p).map_err(|e| io(&p, &e))?;
        let header = r.headers().map_err(|e| io(&p, &e))?.clone();
        if header.iter().collect::<Vec<_>>() != LOOKUP_HEADER {
            return Err(ReidentifyError::BadLookup {
                path: p.clone(),
                line: 1,
                message: format!(
                    "not a lookup table: the header must be {}",
                    LOOKUP_HEADER.join(",")
                ),
            });
        }
        for rec in r.records() {
            let rec = rec.map_err(|e| io(&p, &e))?;
            let line = rec.position().map_or(0, |x| x.line());
            let pseudo = rec.get(0).unwrap_or("");
            if !wanted.contains(pseudo) {
                continue;
            }
            let version: u32 =
                rec.get(2)
                    .unwrap_or("")
                    .parse()
                    .map_err(|_| ReidentifyError::BadLookup {
                        path: p.clone(),
                        line,
                        message: "key_version is not a number".into(),
                    })?;
            found.insert(
                pseudo.to_string(),
                (
                    rec.get(1).unwrap_or("").to_string(),
                    version,
                    rec.get(3).unwrap_or("").to_string(),
                ),
            );
        }
    }
    Ok(())
}

/// Writes the outreach file for the custodian's staff: one row per person found.
pub fn write_outreach(path: &Path, outcome: &Outcome) -> Result<(), ReidentifyError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, &e))?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io(dir, &e))?;
    let mut w = csv::Writer::from_writer(tmp);
    w.write_record([
        "pseudonym",
        "kind",
        "tax_code",
        "surname",
        "first_name",
        "birth_date",
        "sex",
        "identifier",
    ])
    .map_err(|e| io(path, &e))?;
    for p in &outcome.people {
        let (tax, s, f, b, x, other) = match p.kind.as_str() {
            "tax_code" => (p.identifier.as_str(), "", "", "", "", ""),
            "name_birth" => {
                let parts: Vec<&str> = p.identifier.split('|').collect();
                let g = |i: usize| parts.get(i).copied().unwrap_or("");
                ("", g(0), g(1), g(2), g(3), "")
            }
            _ => ("", "", "", "", "", p.identifier.as_str()),
        };
        w.write_record([
            p.pseudonym.as_str(),
            p.kind.as_str(),
            tax,
            s,
            f,
            b,
            x,
            other,
        ])
        .map_err(|e| io(path, &e))?;
    }
    let tmp = w.into_inner().map_err(|e| io(path, &e))?;
    tmp.persist(path).map_err(|e| io(path, &e.error))?;
    Ok(())
}

/// One line of the custodian's re-identification audit log.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct AuditEntry {
    pub at: String,
    pub operator: String,
    pub key_id: String,
    pub lab: String,
    pub purpose: String,
    pub requested_by: String,
    pub list: String,
    /// SHA-256 of the list file.
    pub list_sha256: String,
    pub requested: usize,
    pub found: usize,
    pub output: String,
    /// SHA-256 of the previous line (empty for the first).
    pub prev: String,
}

/// Appends `entry` (its `prev` set to the hash of the log's last line) to the audit log.
pub fn append_audit(log: &Path, mut entry: AuditEntry) -> Result<(), ReidentifyError> {
    entry.prev = match std::fs::File::open(log) {
        Ok(f) => std::io::BufReader::new(f)
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.trim().is_empty())
            .last()
            .map(|l| hex(&Sha256::digest(l.as_bytes())))
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let line = serde_json::to_string(&entry).map_err(|e| io(log, &e))?;
    if let Some(dir) = log.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, &e))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| io(log, &e))?;
    writeln!(f, "{line}").map_err(|e| io(log, &e))?;
    f.sync_all().map_err(|e| io(log, &e))
}

/// Checks the audit log's hash chain; returns the number of entries, or the first broken line.
pub fn verify_audit(log: &Path) -> Result<usize, ReidentifyError> {
    let text = std::fs::read_to_string(log).map_err(|e| io(log, &e))?;
    let mut prev = String::new();
    let mut n = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let e: AuditEntry = serde_json::from_str(line).map_err(|err| ReidentifyError::Refused {
            path: log.to_path_buf(),
            message: format!("line {}: not an audit entry ({err})", i + 1),
        })?;
        if e.prev != prev {
            return Err(ReidentifyError::Refused {
                path: log.to_path_buf(),
                message: format!(
                    "line {}: the hash chain is broken: a line before it was edited or deleted",
                    i + 1
                ),
            });
        }
        prev = hex(&Sha256::digest(line.as_bytes()));
        n += 1;
    }
    Ok(n)
}

/// SHA-256 of a file, hex.
pub fn file_sha256(path: &Path) -> Result<String, ReidentifyError> {
    let bytes = std::fs::read(path).map_err(|e| io(path, &e))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, KeyRing, PathBuf, String, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = KeyRing::generate("lab-a", "city").expect("key");
        let strong = key
            .pseudonymizer("tax_code", false)
            .pseudonym("RSSMRA85T10A562S");
        let weak = key
            .pseudonymizer("name_birth", true)
            .pseudonym("BIANCHI|ANNA|1990-02-01|F");
        let lookup = dir.path().join("lookup.csv");
        std::fs::write(
            &lookup,
            format!(
                "pseudonym,kind,key_version,identifier\n{strong},tax_code,1,RSSMRA85T10A562S\n{weak},name_birth,1,BIANCHI|ANNA|1990-02-01|F\n"
            ),
        )
        .expect("lookup");
        (dir, key, lookup, strong, weak)
    }

    fn list(dir: &Path, purpose: &str, pseudonyms: &[&str]) -> PathBuf {
        let l = OutreachList {
            purpose: purpose.into(),
            requested_by: "Ufficio di piano".into(),
            lab: "lab-a".into(),
            created_at: "2026-11-22T10:00:00Z".into(),
            pseudonyms: pseudonyms.iter().map(|s| s.to_string()).collect(),
        };
        let p = dir.join("list.csv");
        std::fs::write(&p, l.to_text()).expect("list");
        p
    }

    #[test]
    fn pseudonyms_come_back_as_people_and_unknown_ones_are_counted() {
        let (dir, key, lookup, strong, weak) = setup();
        let other = KeyRing::generate("lab-a", "city")
            .expect("key")
            .pseudonymizer("tax_code", false)
            .pseudonym("VRDGPP70A01F257X");
        let p = list(
            dir.path(),
            "Contatto per assegno di inclusione non richiesto",
            &[&strong, &weak, &other],
        );
        let l = OutreachList::read(&p).expect("list");
        let out = reidentify(&key, &l, &[lookup]).expect("reidentify");
        assert_eq!((out.requested, out.found, out.not_found), (3, 2, 1));
        assert_eq!(out.people[0].identifier, "RSSMRA85T10A562S");
        assert_eq!(out.people[1].kind, "name_birth");
        let csv_out = dir.path().join("outreach.csv");
        write_outreach(&csv_out, &out).expect("write");
        let text = std::fs::read_to_string(&csv_out).expect("read");
        assert!(text.contains(",tax_code,RSSMRA85T10A562S,"), "{text}");
        assert!(
            text.contains(",name_birth,,BIANCHI,ANNA,1990-02-01,F,"),
            "{text}"
        );
    }

    #[test]
    fn a_list_without_purpose_or_with_identifiers_is_refused() {
        let (dir, _key, _lookup, strong, _) = setup();
        let p = list(dir.path(), "", &[&strong]);
        let e = OutreachList::read(&p).expect_err("no purpose").to_string();
        assert!(e.contains("declares no purpose"), "{e}");
        let bad = dir.path().join("bad.csv");
        std::fs::write(
            &bad,
            "# purpose: contattare le famiglie in difficoltà\npseudonym\nRSSMRA85T10A562S\n",
        )
        .expect("w");
        let e = OutreachList::read(&bad)
            .expect_err("identifier")
            .to_string();
        assert!(e.contains("is not a pseudonym"), "{e}");
    }

    #[test]
    fn a_lookup_from_another_key_or_altered_is_refused() {
        let (dir, _key, lookup, strong, _) = setup();
        let other_key = KeyRing::generate("lab-a", "city").expect("key");
        let p = list(
            dir.path(),
            "Contatto per assegno di inclusione non richiesto",
            &[&strong],
        );
        let l = OutreachList::read(&p).expect("list");
        let e = reidentify(&other_key, &l, &[lookup])
            .expect_err("other key")
            .to_string();
        assert!(e.contains("does not match the key"), "{e}");
        let wrong_lab = KeyRing::generate("lab-b", "city").expect("key");
        let e = reidentify(&wrong_lab, &l, &[])
            .expect_err("other lab")
            .to_string();
        assert!(e.contains("belongs to lab `lab-b`"), "{e}");
    }

    #[test]
    fn the_audit_chain_detects_an_edit_or_a_deletion() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("audit.jsonl");
        for i in 0..3 {
            append_audit(
                &log,
                AuditEntry {
                    at: format!("2026-11-22T10:0{i}:00Z"),
                    operator: "clerk".into(),
                    key_id: "k".into(),
                    lab: "lab-a".into(),
                    purpose: "outreach".into(),
                    requested_by: "office".into(),
                    list: "list.csv".into(),
                    list_sha256: "00".into(),
                    requested: i,
                    found: i,
                    output: "out.csv".into(),
                    prev: String::new(),
                },
            )
            .expect("append");
        }
        assert_eq!(verify_audit(&log).expect("intact"), 3);
        let text = std::fs::read_to_string(&log).expect("log");
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&log, format!("{}\n{}\n", lines[0], lines[2])).expect("delete");
        let e = verify_audit(&log).expect_err("deleted").to_string();
        assert!(e.contains("line 2"), "{e}");
        std::fs::write(&log, text.replace("\"requested\":1", "\"requested\":9")).expect("edit");
        assert!(verify_audit(&log).is_err());
    }
}
