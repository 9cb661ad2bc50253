//! The identifier guard: `pseudo`'s scanner plugged into `ingest`'s hook. Lives in the binary
//! because `ingest` sits below `pseudo` and must not depend on it.

use ingest::{Finding, Guard, TableGuard};
use pseudo::pseudonym::is_pseudonym;
use pseudo::scan::TableScan;

/// Every value of every column is scanned; a column declared a pseudonym must hold only
/// pseudonyms.
pub struct ScanGuard;

impl Guard for ScanGuard {
    fn table(&self, columns: &[String], pseudonyms: &[bool]) -> Box<dyn TableGuard> {
        let mut t = TableCheck::default();
        t.columns(columns, pseudonyms);
        Box::new(t)
    }
}

/// One segment per column list (JSON lines may add keys as the file goes).
#[derive(Default)]
struct TableCheck {
    segments: Vec<Segment>,
    /// Per declared pseudonym column (by name): values that are not pseudonyms, examples.
    not_pseudonyms: Vec<(String, u64, u64, Vec<String>)>,
}

struct Segment {
    scan: TableScan,
    /// For each file column: Some(index in `scan`) or the index in `not_pseudonyms`.
    map: Vec<Slot>,
}

#[derive(Clone, Copy)]
enum Slot {
    Scan,
    Pseudonym(usize),
}

impl TableGuard for TableCheck {
    fn columns(&mut self, columns: &[String], pseudonyms: &[bool]) {
        let mut scanned = Vec::new();
        let mut map = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            if pseudonyms.get(i).copied().unwrap_or(false) {
                let at = match self.not_pseudonyms.iter().position(|(n, ..)| n == c) {
                    Some(p) => p,
                    None => {
                        self.not_pseudonyms.push((c.clone(), 0, 0, Vec::new()));
                        self.not_pseudonyms.len() - 1
                    }
                };
                map.push(Slot::Pseudonym(at));
            } else {
                map.push(Slot::Scan);
                scanned.push(c.clone());
            }
        }
        self.segments.push(Segment {
            scan: TableScan::new(scanned),
            map,
        });
    }

    fn observe(&mut self, row: &[Option<&str>]) {
        let Some(seg) = self.segments.last_mut() else {
            return;
        };
        let mut values: Vec<Option<&str>> = Vec::with_capacity(row.len());
        for (i, v) in row.iter().enumerate() {
            match seg.map.get(i).copied() {
                Some(Slot::Pseudonym(p)) => {
                    if let Some(v) = v {
                        let e = &mut self.not_pseudonyms[p];
                        e.2 += 1;
                        if !is_pseudonym(v) {
                            e.1 += 1;
                            if e.3.len() < 3 {
                                e.3.push(mask_any(v));
                            }
                        }
                    }
                }
                Some(Slot::Scan) => values.push(*v),
                // A cell beyond the header: scan it too.
                None => values.push(*v),
            }
        }
        seg.scan.observe(&values);
    }

    fn finish(self: Box<Self>) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        for seg in self.segments {
            for f in seg.scan.finish() {
                let kind = f.kind.as_str().to_string();
                match out
                    .iter_mut()
                    .find(|o| o.column == f.column && o.kind == kind)
                {
                    Some(o) => {
                        o.count += f.count;
                        o.scanned += f.scanned;
                    }
                    None => out.push(Finding {
                        column: f.column,
                        kind,
                        count: f.count,
                        scanned: f.scanned,
                        by_name: f.by_name,
                        examples: f.examples,
                    }),
                }
            }
        }
        for (column, bad, scanned, examples) in self.not_pseudonyms {
            if bad > 0 {
                out.push(Finding {
                    column,
                    kind: "not_a_pseudonym".into(),
                    count: bad,
                    scanned,
                    by_name: false,
                    examples,
                });
            }
        }
        out
    }
}

/// A value shown only by its shape: the first two characters, then `*` per character.
fn mask_any(v: &str) -> String {
    v.chars()
        .enumerate()
        .map(|(i, c)| if i < 2 { c } else { '*' })
        .take(24)
        .collect()
}
