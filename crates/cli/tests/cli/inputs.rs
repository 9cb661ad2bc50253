//! Input files as holders really send them, written for real into a fresh project and built
//! with the real binary: Italian CSV exports (`;`, decimal comma, `dd/mm/yyyy`), Windows-1252,
//! BOMs, quoted newlines, XLSX with a title block, JSON lines, Parquet; rows that break a rule;
//! files that cannot be read as declared.
//!
//! One helper per question, so that each test is data:
//! - [`check_loads`]: the file loads and a query returns exactly these rows;
//! - [`check_quarantine`]: exactly these rows go to `quarantine.t`, with line, column, rule and
//!   reason, and every row read is either loaded or quarantined;
//! - [`check_rejects`]: a bad file fails the build with exit code 2, naming the file and where,
//!   and the previous snapshot stays current.

use crate::support::{datalab, ok, project, query, s, source_status};
use std::path::Path;
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------
// Helpers

/// The spec of a source reading `files` (a path or glob under `data/`) as `format`, followed by
/// `rest` (more keys and the `[[columns]]`).
fn spec(files: &str, format: &str, rest: &str) -> String {
    format!("format_version = 1\nfiles = [\"data/{files}\"]\nformat = \"{format}\"\n{rest}")
}

/// Builds the project, asserting success and, for every source, that every row read was either
/// loaded or quarantined (`rows_in = rows_loaded + rows_quarantined`).
fn build_ok(dir: &Path) {
    ok(&["build", "--project", s(dir), "--quiet"]);
    let status = crate::support::status(dir);
    for src in status["sources"].as_array().expect("sources") {
        let (rows_in, loaded, quarantined) = counts(src);
        assert_eq!(
            rows_in,
            loaded + quarantined,
            "accounting of {}: {src:#}",
            src["source"]
        );
    }
}

/// (rows_in, rows_loaded, rows_quarantined) of a status line.
fn counts(src: &serde_json::Value) -> (u64, u64, u64) {
    let n = |k: &str| {
        src[k]
            .as_u64()
            .unwrap_or_else(|| panic!("no {k} in {src:#}"))
    };
    (n("rows_in"), n("rows_loaded"), n("rows_quarantined"))
}

/// Writes source `t` (spec and files), builds it and checks that `sql` returns exactly
/// `expect` (CSV fields, header excluded).
fn check_loads(spec: &str, files: &[(&str, &[u8])], sql: &str, expect: &[&[&str]]) {
    let dir = TempDir::new().expect("tempdir");
    project(dir.path(), &[("t", spec)], files);
    build_ok(dir.path());
    let (rows_in, loaded, quarantined) = counts(&source_status(dir.path(), "t"));
    let bad = query(
        dir.path(),
        "SELECT _line, reason FROM quarantine.t ORDER BY _line",
    );
    assert_eq!(
        (rows_in, loaded, quarantined),
        (expect.len() as u64, expect.len() as u64, 0),
        "quarantined: {bad:?}"
    );
    assert_eq!(query(dir.path(), sql), expect);
}

/// The columns of source `people`, read from a `;`-separated Italian export with decimal
/// commas, `.` as thousands separator and `dd/mm/yyyy` dates.
const PEOPLE: &str = r#"delimiter = ";"
decimal = ","
thousands = "."
date_formats = ["%d/%m/%Y"]
unique = ["id"]

[[columns]]
name = "id"
from = "ID"
type = "integer"
required = true

[[columns]]
name = "label"
from = "SERVIZIO"
type = "string"
required = true

[[columns]]
name = "sex"
from = "SESSO"
type = "string"
allowed = ["M", "F"]

[[columns]]
name = "birth_date"
from = "DATA_NASCITA"
type = "date"

[[columns]]
name = "children"
from = "FIGLI"
type = "integer"
min = 0
max = 20

[[columns]]
name = "isee"
from = "ISEE"
type = "float"
min = 0

[[columns]]
name = "zone"
from = "ZONA"
type = "string"
codelist = "codes/zones.csv"

[[columns]]
name = "case_code"
from = "PRATICA"
type = "string"
regex = "^[A-Z]{6}[0-9]{2}$"
"#;

const PEOPLE_HEADER: &str = "ID;SERVIZIO;SESSO;DATA_NASCITA;FIGLI;ISEE;ZONA;PRATICA\n";
const ZONES: &[u8] = b"code,name\nZ01,Centro\nZ02,Nord\n";

/// Builds `rows` (after [`PEOPLE_HEADER`], one record per line, so the header is line 1) as
/// source `t` with the [`PEOPLE`] columns and checks the quarantine: `expect` holds, in line
/// order, (line, column, rule, a fragment of the reason) of every quarantined row; every other
/// row is loaded.
fn check_quarantine(rows: &str, expect: &[(u64, &str, &str, &str)]) {
    let dir = TempDir::new().expect("tempdir");
    let csv = format!("{PEOPLE_HEADER}{rows}");
    project(
        dir.path(),
        &[("t", &spec("people.csv", "csv", PEOPLE))],
        &[
            ("data/people.csv", csv.as_bytes()),
            ("codes/zones.csv", ZONES),
        ],
    );
    build_ok(dir.path());
    check_quarantined(dir.path(), "t", rows.lines().count() as u64, expect);
}

/// Checks source `source`'s accounting (`rows_in` rows read) and that `quarantine.SOURCE` holds
/// exactly the `expect`ed rows: (line, column, rule, fragment of the reason).
fn check_quarantined(dir: &Path, source: &str, rows_in: u64, expect: &[(u64, &str, &str, &str)]) {
    let q = expect.len() as u64;
    assert_eq!(
        counts(&source_status(dir, source)),
        (rows_in, rows_in - q, q),
        "rows in, loaded, quarantined"
    );
    let got = query(
        dir,
        &format!("SELECT _line, \"column\", rule, reason FROM quarantine.{source} ORDER BY _line"),
    );
    let lines: Vec<(String, &str, &str)> = got
        .iter()
        .map(|r| (r[0].clone(), r[1].as_str(), r[2].as_str()))
        .collect();
    let want: Vec<(String, &str, &str)> =
        expect.iter().map(|e| (e.0.to_string(), e.1, e.2)).collect();
    assert_eq!(
        lines, want,
        "quarantined (line, column, rule); reasons: {got:?}"
    );
    for (row, e) in got.iter().zip(expect) {
        assert!(
            row[3].contains(e.3),
            "line {}: reason `{}` does not contain `{}`",
            e.0,
            row[3],
            e.3
        );
    }
    let loaded = query(dir, &format!("SELECT COUNT(*) FROM {source}"));
    assert_eq!(loaded, [[(rows_in - q).to_string()]]);
}

/// Builds source `t` with `good` at `path`, then replaces it with `bad` (or removes it, when
/// `None`) and builds again: the build must fail with exit code 2 and a stderr holding every
/// `expect_in_stderr` fragment, and the first snapshot must stay current with its rows.
fn check_rejects(
    spec: &str,
    path: &str,
    good: &[u8],
    bad: Option<&[u8]>,
    expect_in_stderr: &[&str],
) {
    let dir = TempDir::new().expect("tempdir");
    let dir = dir.path();
    project(dir, &[("t", spec)], &[(path, good)]);
    build_ok(dir);
    let before = source_status(dir, "t");
    let rows_before = query(dir, "SELECT * FROM t ORDER BY _file, _line");
    assert!(!rows_before.is_empty(), "the good file loads rows");

    match bad {
        Some(bytes) => std::fs::write(dir.join(path), bytes).expect("write the bad file"),
        None => std::fs::remove_file(dir.join(path)).expect("remove the file"),
    }
    let out = datalab(&["build", "--project", s(dir), "--quiet"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit code of a build with a bad file; stderr:\n{stderr}"
    );
    assert!(stderr.starts_with("error: "), "stderr:\n{stderr}");
    for e in expect_in_stderr {
        assert!(
            stderr.contains(e),
            "stderr does not contain `{e}`:\n{stderr}"
        );
    }

    let after = source_status(dir, "t");
    assert_eq!(
        after["snapshot_id"], before["snapshot_id"],
        "the previous snapshot stays current"
    );
    assert_eq!(counts(&after), counts(&before));
    assert_eq!(
        query(dir, "SELECT * FROM t ORDER BY _file, _line"),
        rows_before,
        "the previous rows stay"
    );
}

/// Byte offset of `needle` in `haystack`: where a reader must say the problem is.
fn offset(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("`{}` not in the file", String::from_utf8_lossy(needle)))
}

fn windows_1252(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable, "`{text}` fits Windows-1252");
    bytes.into_owned()
}

/// An XLSX workbook as an office exports it: a title on row 1, rows 2-3 blank, the header on
/// row 4, then `rows` of (id, name, date of the application, amount) with real Excel dates.
/// One application row: id, name, (year, month, day), amount.
type Application<'a> = (f64, &'a str, (u16, u8, u8), f64);

fn xlsx_with_title(rows: &[Application<'_>]) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Comune di Esempio - Domande di contributo 2023")
        .expect("title");
    for (c, h) in ["ID", "SERVIZIO", "DATA_DOMANDA", "IMPORTO"]
        .iter()
        .enumerate()
    {
        ws.write_string(3, c as u16, *h).expect("header");
    }
    for (i, (id, name, (y, m, d), amount)) in rows.iter().enumerate() {
        let r = 4 + i as u32;
        ws.write_number(r, 0, *id).expect("id");
        ws.write_string(r, 1, *name).expect("name");
        let dt = ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
        ws.write_datetime_with_format(r, 2, &dt, &date)
            .expect("date cell");
        ws.write_number(r, 3, *amount).expect("amount");
    }
    wb.save_to_buffer().expect("xlsx bytes")
}

const XLSX_SPEC: &str = r#"header_row = 4

[[columns]]
name = "id"
from = "ID"
type = "integer"

[[columns]]
name = "label"
from = "SERVIZIO"
type = "string"

[[columns]]
name = "submitted_on"
from = "DATA_DOMANDA"
type = "date"

[[columns]]
name = "amount"
from = "IMPORTO"
type = "float"
"#;

/// A small CSV source: id, name, amount (comma separated, UTF-8).
const SIMPLE: &str = r#"
[[columns]]
name = "id"
type = "integer"

[[columns]]
name = "label"
type = "string"

[[columns]]
name = "amount"
type = "float"
"#;

const SIMPLE_CSV: &[u8] = b"id,label,amount\n1,Anna,10.5\n2,Bruno,20\n";

// ---------------------------------------------------------------------------------------------
// Files that load

#[test]
fn italian_csv_with_semicolons_decimal_commas_and_thousands_dots() {
    check_loads(
        &spec(
            "t.csv",
            "csv",
            r#"delimiter = ";"
decimal = ","
thousands = "."

[[columns]]
name = "id"
type = "integer"

[[columns]]
name = "amount"
from = "importo"
type = "float"

[[columns]]
name = "members"
from = "componenti"
type = "integer"
"#,
        ),
        &[(
            "data/t.csv",
            b"id;importo;componenti\n1;12.345,67;3\n2;-0,5;1\n3;1.234.567;1.200\n4;999;2\n",
        )],
        "SELECT id, amount, members FROM t ORDER BY id",
        &[
            &["1", "12345.67", "3"],
            &["2", "-0.5", "1"],
            &["3", "1234567.0", "1200"],
            &["4", "999.0", "2"],
        ],
    );
}

#[test]
fn dates_in_dd_mm_yyyy_are_read_as_dates() {
    check_loads(
        &spec(
            "t.csv",
            "csv",
            r#"delimiter = ";"
date_formats = ["%d/%m/%Y", "%Y-%m-%d"]

[[columns]]
name = "id"
type = "integer"

[[columns]]
name = "born"
from = "data_nascita"
type = "date"
"#,
        ),
        &[(
            "data/t.csv",
            b"id;data_nascita\n1;28/02/2021\n2;29/02/2020\n3;01/12/1999\n4;2005-07-14\n",
        )],
        "SELECT id, born, CAST(date_part('month', born) AS BIGINT) FROM t ORDER BY id",
        &[
            &["1", "2021-02-28", "2"],
            &["2", "2020-02-29", "2"],
            &["3", "1999-12-01", "12"],
            &["4", "2005-07-14", "7"],
        ],
    );
}

#[test]
fn windows_1252_bytes_are_decoded() {
    let bytes = windows_1252("id;etichetta;comune\n1;Niccolò;Forlì\n2;Zoë;Città di Castello\n");
    assert!(
        bytes.contains(&0xF2),
        "ò is the single byte 0xF2 in Windows-1252"
    );
    assert!(std::str::from_utf8(&bytes).is_err());
    check_loads(
        &spec(
            "t.csv",
            "csv",
            r#"encoding = "windows-1252"
delimiter = ";"

[[columns]]
name = "id"
type = "integer"

[[columns]]
name = "label"
from = "etichetta"
type = "string"

[[columns]]
name = "town"
from = "comune"
type = "string"
"#,
        ),
        &[("data/t.csv", &bytes)],
        "SELECT id, label, town, length(label) FROM t ORDER BY id",
        &[
            &["1", "Niccolò", "Forlì", "7"],
            &["2", "Zoë", "Città di Castello", "3"],
        ],
    );
}

#[test]
fn utf8_bom_does_not_stick_to_the_first_header() {
    check_loads(
        &spec("t.csv", "csv", SIMPLE),
        &[(
            "data/t.csv",
            b"\xEF\xBB\xBFid,label,amount\n1,Anna,10.5\n2,Bruno,20\n",
        )],
        "SELECT id, label, amount FROM t ORDER BY id",
        &[&["1", "Anna", "10.5"], &["2", "Bruno", "20.0"]],
    );
}

#[test]
fn quoted_fields_with_newlines_and_doubled_quotes_load_and_keep_physical_lines() {
    let csv = b"id,label,note\n\
                1,Anna,\"first line\nsecond line\"\n\
                2,\"Bruno \"\"il Rosso\"\"\",plain\n\
                3,Carla,\"a\n\nb\"\n\
                4,Dario,last\n";
    check_loads(
        &spec(
            "t.csv",
            "csv",
            r#"
[[columns]]
name = "id"
type = "integer"

[[columns]]
name = "label"
type = "string"

[[columns]]
name = "note"
type = "string"
"#,
        ),
        &[("data/t.csv", csv)],
        "SELECT id, label, note, _line FROM t ORDER BY id",
        &[
            &["1", "Anna", "first line\nsecond line", "2"],
            &["2", "Bruno \"il Rosso\"", "plain", "4"],
            &["3", "Carla", "a\n\nb", "5"],
            &["4", "Dario", "last", "8"],
        ],
    );
}

#[test]
fn xlsx_with_a_title_block_and_excel_dates() {
    let xlsx = xlsx_with_title(&[
        (1.0, "Anna", (2023, 3, 15), 1234.5),
        (2.0, "Bruno", (2023, 12, 31), 80.0),
    ]);
    check_loads(
        &spec("t.xlsx", "xlsx", XLSX_SPEC),
        &[("data/t.xlsx", &xlsx)],
        "SELECT id, label, submitted_on, amount, _line FROM t ORDER BY id",
        &[
            &["1", "Anna", "2023-03-15", "1234.5", "5"],
            &["2", "Bruno", "2023-12-31", "80.0", "6"],
        ],
    );
}

#[test]
fn json_lines() {
    let jsonl = br#"{"ID": 1, "etichetta": "Anna", "importo": 10.5, "data": "2023-01-31", "attivo": true}
{"ID": 2, "etichetta": "Bruno", "importo": 7, "data": "2023-02-01", "attivo": false, "extra": "not loaded"}

{"ID": 3, "etichetta": null, "importo": "3.25", "data": "2023-03-01"}
"#;
    check_loads(
        &spec(
            "t.jsonl",
            "jsonl",
            r#"
[[columns]]
name = "id"
from = "ID"
type = "integer"

[[columns]]
name = "label"
from = "etichetta"
type = "string"

[[columns]]
name = "amount"
from = "importo"
type = "float"

[[columns]]
name = "day"
from = "data"
type = "date"

[[columns]]
name = "active"
from = "attivo"
type = "boolean"
"#,
        ),
        &[("data/t.jsonl", jsonl)],
        "SELECT id, label, amount, day, active, _line FROM t ORDER BY id",
        &[
            &["1", "Anna", "10.5", "2023-01-31", "true", "1"],
            &["2", "Bruno", "7.0", "2023-02-01", "false", "2"],
            &["3", "", "3.25", "2023-03-01", "", "4"],
        ],
    );
}

#[test]
fn parquet() {
    use arrow::array::{ArrayRef, Date32Array, Float64Array, Int64Array, StringArray};
    use arrow::record_batch::RecordBatch;
    use std::sync::Arc;
    let batch = RecordBatch::try_from_iter([
        ("ID", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        (
            "SERVIZIO",
            Arc::new(StringArray::from(vec![Some("Anna"), None, Some("Carla")])) as ArrayRef,
        ),
        (
            "IMPORTO",
            Arc::new(Float64Array::from(vec![10.5, 0.25, 1e6])) as ArrayRef,
        ),
        // Days since 1970-01-01: 2023-03-15, 2000-01-01, 1970-01-02.
        (
            "GIORNO",
            Arc::new(Date32Array::from(vec![19431, 10957, 1])) as ArrayRef,
        ),
        (
            "NON_MAPPATA",
            Arc::new(StringArray::from(vec!["x", "y", "z"])) as ArrayRef,
        ),
    ])
    .expect("batch");
    let mut bytes = Vec::new();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
    check_loads(
        &spec(
            "t.parquet",
            "parquet",
            r#"
[[columns]]
name = "id"
from = "ID"
type = "integer"

[[columns]]
name = "label"
from = "SERVIZIO"
type = "string"

[[columns]]
name = "amount"
from = "IMPORTO"
type = "float"

[[columns]]
name = "day"
from = "GIORNO"
type = "date"
"#,
        ),
        &[("data/t.parquet", &bytes)],
        "SELECT id, label, amount, day, _line FROM t ORDER BY id",
        &[
            &["1", "Anna", "10.5", "2023-03-15", "1"],
            &["2", "", "0.25", "2000-01-01", "2"],
            &["3", "Carla", "1000000.0", "1970-01-02", "3"],
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Rows that go to quarantine, one rule at a time. The header is line 1; the first data row is
// always good.

const GOOD: &str = "1;Anna;F;15/03/1980;2;12.345,67;Z01;RSSNNA80\n";

#[test]
fn impossible_date_is_a_type_error() {
    check_quarantine(
        &format!("{GOOD}2;Bice;F;31/02/2021;0;0;Z01;BCIBCE21\n"),
        &[(3, "birth_date", "type", "`31/02/2021` is not a valid date")],
    );
}

#[test]
fn non_numeric_amount_is_a_type_error() {
    check_quarantine(
        &format!("{GOOD}2;Bice;F;01/02/2001;0;dodici;Z01;BCIBCE01\n"),
        &[(3, "isee", "type", "`dodici` is not a number")],
    );
}

#[test]
fn decimal_in_an_integer_column_is_a_type_error() {
    check_quarantine(
        &format!("{GOOD}2;Bice;F;01/02/2001;3,5;0;Z01;BCIBCE01\n"),
        &[(3, "children", "type", "`3,5` is not an integer")],
    );
}

#[test]
fn bad_grouping_with_dot_as_thousands_separator_is_not_a_number() {
    // `.` groups thousands here, so `12.5` is neither twelve and a half nor 125.
    check_quarantine(
        &format!(
            "{GOOD}2;Bice;F;01/02/2001;0;12.5;Z01;BCIBCE01\n3;Ciro;M;01/02/2001;0;1.2345;Z01;CRICRO01\n"
        ),
        &[
            (3, "isee", "type", "`12.5` is not a number"),
            (4, "isee", "type", "`1.2345` is not a number"),
        ],
    );
}

#[test]
fn out_of_range_values() {
    check_quarantine(
        &format!(
            "{GOOD}2;Bice;F;01/02/2001;-1;0;Z01;BCIBCE01\n3;Ciro;M;01/02/2001;21;0;Z01;CRICRO01\n4;Dina;F;01/02/2001;20;-0,01;Z01;DNADNA01\n"
        ),
        &[
            (3, "children", "range", "`-1` is below the minimum 0"),
            (4, "children", "range", "`21` is above the maximum 20"),
            (5, "isee", "range", "`-0.01` is below the minimum 0"),
        ],
    );
}

#[test]
fn value_not_allowed() {
    check_quarantine(
        &format!(
            "{GOOD}2;Bice;X;01/02/2001;0;0;Z01;BCIBCE01\n3;Ciro;m;01/02/2001;0;0;Z01;CRICRO01\n"
        ),
        &[
            (3, "sex", "allowed", "`X` is not one of: M, F"),
            (4, "sex", "allowed", "`m` is not one of: M, F"),
        ],
    );
}

#[test]
fn codelist_miss() {
    check_quarantine(
        &format!(
            "{GOOD}2;Bice;F;01/02/2001;0;0;Z99;BCIBCE01\n3;Ciro;M;01/02/2001;0;0;Z02;CRICRO01\n"
        ),
        &[(
            3,
            "zone",
            "codelist",
            "`Z99` is not in the codelist codes/zones.csv",
        )],
    );
}

#[test]
fn regex_miss() {
    check_quarantine(
        &format!(
            "{GOOD}2;Bice;F;01/02/2001;0;0;Z01;bcibce01\n3;Ciro;M;01/02/2001;0;0;Z01;CRICRO012\n"
        ),
        &[
            (
                3,
                "case_code",
                "regex",
                "`bcibce01` does not match ^[A-Z]{6}[0-9]{2}$",
            ),
            (4, "case_code", "regex", "`CRICRO012` does not match"),
        ],
    );
}

#[test]
fn missing_required_value() {
    // An empty optional value is fine (row 4); an empty required one is not.
    check_quarantine(
        &format!(
            "{GOOD}2;;F;01/02/2001;0;0;Z01;BCIBCE01\n3;  ;F;01/02/2001;0;0;Z01;BCIBCE01\n4;Dina;;;;;;\n"
        ),
        &[
            (3, "label", "required", "missing required value"),
            (4, "label", "required", "missing required value"),
        ],
    );
}

#[test]
fn duplicate_unique_key_keeps_the_first_row() {
    let dir = TempDir::new().expect("tempdir");
    let csv = format!(
        "{PEOPLE_HEADER}{GOOD}2;Bice;F;01/02/2001;0;0;Z01;BCIBCE01\n1;Anna bis;F;15/03/1980;2;0;Z01;RSSNNA80\n2;Bice bis;F;01/02/2001;0;0;Z01;BCIBCE01\n"
    );
    project(
        dir.path(),
        &[("t", &spec("people.csv", "csv", PEOPLE))],
        &[
            ("data/people.csv", csv.as_bytes()),
            ("codes/zones.csv", ZONES),
        ],
    );
    build_ok(dir.path());
    check_quarantined(
        dir.path(),
        "t",
        4,
        &[
            (4, "", "unique", "duplicate key (id) = (1)"),
            (5, "", "unique", "duplicate key (id) = (2)"),
        ],
    );
    assert_eq!(
        query(dir.path(), "SELECT id, label, _line FROM t ORDER BY id"),
        [["1", "Anna", "2"], ["2", "Bice", "3"]]
    );
}

/// The CSV parser reads `"Bice" Rossi` as `Bice Rossi`; the row must not load altered
/// (regression: it did, silently).
#[test]
fn text_after_a_closing_quote_is_a_row_error() {
    check_quarantine(
        &format!(
            "{GOOD}2;\"Bice\" Rossi;F;01/02/2001;0;0;Z01;BCIBCE01\n3;\"Ciro \"\"il grande\"\"\";M;01/02/2001;0;0;Z01;CRICRO01\n"
        ),
        &[(
            3,
            "",
            "row",
            "text follows the closing quote in `\"Bice\" Rossi`",
        )],
    );
}

#[test]
fn wrong_field_count_is_a_row_error() {
    check_quarantine(
        &format!("{GOOD}2;Bice;F;01/02/2001;0;0;Z01;BCIBCE01;extra\n3;Ciro;M;01/02/2001\n"),
        &[
            (3, "", "row", "expected 8 fields as in the header, found 9"),
            (4, "", "row", "expected 8 fields as in the header, found 4"),
        ],
    );
}

#[test]
fn a_row_with_several_problems_lists_them_all() {
    check_quarantine(
        &format!("{GOOD}2;;X;30/02/2001;0;0;Z01;BCIBCE01\n"),
        &[(
            3,
            "label",
            "required",
            "label: missing required value; sex: `X` is not one of: M, F; birth_date: `30/02/2001` is not a valid date",
        )],
    );
}

#[test]
fn reference_to_a_missing_key_of_another_source() {
    let dir = TempDir::new().expect("tempdir");
    let households = spec(
        "households.csv",
        "csv",
        r#"unique = ["hh_id"]

[[columns]]
name = "hh_id"
type = "string"
required = true
"#,
    );
    let members = spec(
        "members.csv",
        "csv",
        r#"
[[columns]]
name = "person"
type = "string"

[[columns]]
name = "hh_id"
type = "string"
references = "households.hh_id"
"#,
    );
    project(
        dir.path(),
        &[("households", &households), ("members", &members)],
        &[
            ("data/households.csv", b"hh_id\nH1\nH2\n"),
            (
                "data/members.csv",
                b"person,hh_id\nAnna,H1\nBruno,H3\nCarla,H2\nDario,\n",
            ),
        ],
    );
    build_ok(dir.path());
    check_quarantined(
        dir.path(),
        "members",
        4,
        &[(
            3,
            "hh_id",
            "reference",
            "`H3` is not found in households.hh_id",
        )],
    );
    check_quarantined(dir.path(), "households", 2, &[]);
}

// ---------------------------------------------------------------------------------------------
// Files that cannot be read as declared: the build fails with exit code 2, names the file and
// where, and the previous snapshot stays current.

const NAMES: &str = r#"
[[columns]]
name = "id"
type = "integer"

[[columns]]
name = "label"
type = "string"
"#;

#[test]
fn declared_utf8_but_windows_1252() {
    let bad = windows_1252("id,label\n1,Anna\n2,Niccolò\n");
    let byte = offset(&bad, b"2,Nicc");
    check_rejects(
        &spec("t.csv", "csv", NAMES),
        "data/t.csv",
        b"id,label\n1,Anna\n",
        Some(&bad),
        &[
            &format!(
                "data/t.csv:3 (byte {byte}): invalid UTF-8 (byte 0xF2 in this record) but the spec declares utf-8"
            ),
            "hint: the file is probably windows-1252",
        ],
    );
}

#[test]
fn declared_windows_1252_but_utf8() {
    check_rejects(
        &spec(
            "t.csv",
            "csv",
            &format!("encoding = \"windows-1252\"\n{NAMES}"),
        ),
        "data/t.csv",
        &windows_1252("id,label\n1,Niccolò\n"),
        Some("id,label\n1,Anna\n2,Niccolò\n3,Forlì\n".as_bytes()),
        &[
            "data/t.csv:3: the spec declares windows-1252 but the text is UTF-8 (e.g. `ò`",
            "hint: set encoding = \"utf-8\" in sources/t.toml",
        ],
    );
}

#[test]
fn csv_truncated_inside_a_quoted_field() {
    let bad: &[u8] = b"id,label\n1,Anna\n2,\"Bruno\nRossi\"\n3,\"Carla, who was cut off in the mid";
    check_rejects(
        &spec("t.csv", "csv", NAMES),
        "data/t.csv",
        b"id,label\n1,Anna\n",
        Some(bad),
        &[
            &format!(
                "data/t.csv:5 (byte {}): the file ends inside a quoted field",
                offset(bad, b"3,\"Carla")
            ),
            "it looks truncated",
            "hint: ask the holder for the complete file",
        ],
    );
}

#[test]
fn csv_whose_last_record_is_cut_short() {
    let bad: &[u8] = b"id,label,amount\n1,Anna,10.5\n2,Bru";
    check_rejects(
        &spec("t.csv", "csv", SIMPLE),
        "data/t.csv",
        SIMPLE_CSV,
        Some(bad),
        &[
            &format!(
                "data/t.csv:3 (byte {}): the last record has 2 of 3 fields",
                offset(bad, b"2,Bru")
            ),
            "does not end with a newline: it looks truncated",
        ],
    );
}

#[test]
fn csv_declared_as_xlsx() {
    let good = xlsx_with_title(&[(1.0, "Anna", (2023, 3, 15), 1.0)]);
    check_rejects(
        &spec("t.xlsx", "xlsx", XLSX_SPEC),
        "data/t.xlsx",
        &good,
        Some(b"ID,SERVIZIO,DATA_DOMANDA,IMPORTO\n1,Anna,2023-03-15,1\n"),
        &[
            "data/t.xlsx: byte 0: not a xlsx file: it looks like text",
            "hint: set format = \"csv\" in sources/t.toml",
        ],
    );
}

#[test]
fn xlsx_declared_as_csv() {
    check_rejects(
        &spec("t.csv", "csv", SIMPLE),
        "data/t.csv",
        SIMPLE_CSV,
        Some(&xlsx_with_title(&[(1.0, "Anna", (2023, 3, 15), 1.0)])),
        &[
            "data/t.csv: byte 0: not a csv file: it looks like a ZIP archive",
            "hint: set format = \"xlsx\" in sources/t.toml",
        ],
    );
}

#[test]
fn truncated_xlsx() {
    let good = xlsx_with_title(&[
        (1.0, "Anna", (2023, 3, 15), 1.0),
        (2.0, "Bruno", (2023, 4, 1), 2.0),
    ]);
    let half = &good[..good.len() / 2];
    check_rejects(
        &spec("t.xlsx", "xlsx", XLSX_SPEC),
        "data/t.xlsx",
        &good,
        Some(half),
        &[
            "data/t.xlsx: not a readable xlsx workbook",
            "hint: the file may be truncated",
        ],
    );
}

#[test]
fn header_missing_a_declared_column_suggests_the_renamed_one() {
    let spec = spec(
        "t.csv",
        "csv",
        r#"delimiter = ";"
date_formats = ["%d/%m/%Y"]

[[columns]]
name = "id"
from = "ID"
type = "integer"

[[columns]]
name = "birth_date"
from = "DATA_NASCITA"
type = "date"
"#,
    );
    check_rejects(
        &spec,
        "data/t.csv",
        b"ID;DATA_NASCITA\n1;15/03/1980\n",
        Some(b"ID;DATA_NASC;COMUNE\n1;15/03/1980;Forli\n"),
        &[
            "data/t.csv:1: column `DATA_NASCITA` (for `birth_date`) not found in the header",
            "hint: the header has `DATA_NASC`: did the holder rename it? set `from = \"DATA_NASC\"` for column `birth_date`",
        ],
    );
}

#[test]
fn glob_matching_no_file() {
    check_rejects(
        &spec("isee_*.csv", "csv", SIMPLE),
        "data/isee_2023.csv",
        SIMPLE_CSV,
        None,
        &[
            "source `t`: no file matches `data/isee_*.csv`",
            "hint: check `files` in",
            "sources/t.toml",
        ],
    );
}

#[test]
fn utf8_bom_but_declared_windows_1252() {
    check_rejects(
        &spec(
            "t.csv",
            "csv",
            &format!("encoding = \"windows-1252\"\n{NAMES}"),
        ),
        "data/t.csv",
        b"id,label\n1,Anna\n",
        Some(b"\xEF\xBB\xBFid,label\n1,Anna\n2,Bruno\n"),
        &[
            "data/t.csv:1 (byte 0): the file starts with a UTF-8 byte-order mark but the spec declares windows-1252",
            "hint: set encoding = \"utf-8\" in sources/t.toml",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Physical lines, whatever the line endings: quarantine `_line`s and error locations must point
// at the line a person opens the file on.

const ID_NAME_NOTE: &str = r#"
[[columns]]
name = "id"
type = "integer"

[[columns]]
name = "label"
type = "string"

[[columns]]
name = "note"
type = "string"
"#;

#[test]
fn crlf_line_endings_keep_physical_lines() {
    // Windows exports end lines with CRLF; a quoted field may hold a CRLF too.
    check_loads(
        &spec("t.csv", "csv", ID_NAME_NOTE),
        &[(
            "data/t.csv",
            b"id,label,note\r\n1,Anna,a\r\n2,Bruno,\"two\r\nlines\"\r\n3,Carla,\"say \"\"hi\"\"\"\r\n4,Dario,d\r\n",
        )],
        "SELECT id, label, note, _line FROM t ORDER BY id",
        &[
            &["1", "Anna", "a", "2"],
            &["2", "Bruno", "two\r\nlines", "3"],
            &["3", "Carla", "say \"hi\"", "5"],
            &["4", "Dario", "d", "6"],
        ],
    );
}

#[test]
fn crlf_line_endings_quarantine_the_right_line() {
    let rows = format!(
        "{GOOD}2;Bice;F;31/02/2021;0;0;Z01;BCIBCE21\n3;Ciro;M;01/02/2001;0;0;Z01;CRICRO01\n4;Dina;X;01/02/2001;0;0;Z01;DNADNA01\n"
    );
    check_quarantine(
        &rows.replace('\n', "\r\n"),
        &[
            (3, "birth_date", "type", "`31/02/2021` is not a valid date"),
            (5, "sex", "allowed", "`X` is not one of: M, F"),
        ],
    );
}

#[test]
fn blank_lines_keep_physical_lines() {
    check_loads(
        &spec("t.csv", "csv", ID_NAME_NOTE),
        &[(
            "data/t.csv",
            b"id,label,note\n\n1,Anna,a\n\n\n2,Bruno,b\r\n\r\n3,Carla,c\n",
        )],
        "SELECT id, _line FROM t ORDER BY id",
        &[&["1", "3"], &["2", "6"], &["3", "8"]],
    );
}

#[test]
fn header_row_in_a_crlf_file_after_a_title_block() {
    check_loads(
        &spec("t.csv", "csv", &format!("header_row = 4\n{ID_NAME_NOTE}")),
        &[(
            "data/t.csv",
            b"Comune di Esempio - estrazione 2023\r\nfonte: anagrafe\r\n\r\nid,label,note\r\n1,Anna,a\r\n2,Bruno,b\r\n",
        )],
        "SELECT id, label, note, _line FROM t ORDER BY id",
        &[&["1", "Anna", "a", "5"], &["2", "Bruno", "b", "6"]],
    );
}

#[test]
fn literal_quote_inside_the_last_field_is_not_truncation() {
    // A quote opens a quoted field only at the start of the field: `5"` is five inches.
    check_loads(
        &spec("t.csv", "csv", ID_NAME_NOTE),
        &[(
            "data/t.csv",
            b"id,label,note\n1,Anna,ok\n2,Bruno,Tubo 5\" acciaio\n",
        )],
        "SELECT id, note FROM t ORDER BY id",
        &[&["1", "ok"], &["2", "Tubo 5\" acciaio"]],
    );
}

#[test]
fn last_record_without_a_final_newline_loads() {
    check_loads(
        &spec("t.csv", "csv", SIMPLE),
        &[(
            "data/t.csv",
            b"id,label,amount\n1,Anna,10.5\n2,Bruno,\"20\"",
        )],
        "SELECT id, label, amount, _line FROM t ORDER BY id",
        &[&["1", "Anna", "10.5", "2"], &["2", "Bruno", "20.0", "3"]],
    );
}

#[test]
fn declared_utf8_but_windows_1252_in_a_crlf_file() {
    let bad = windows_1252("id,label\r\n1,Anna\r\n\r\n2,Niccolò\r\n");
    let byte = offset(&bad, b"2,Nicc");
    check_rejects(
        &spec("t.csv", "csv", NAMES),
        "data/t.csv",
        b"id,label\r\n1,Anna\r\n",
        Some(&bad),
        &[&format!(
            "data/t.csv:4 (byte {byte}): invalid UTF-8 (byte 0xF2 in this record)"
        )],
    );
}

#[test]
fn csv_with_bom_truncated_inside_a_quoted_field_in_a_crlf_file() {
    let bad: &[u8] = b"\xEF\xBB\xBFid,label\r\n1,Anna\r\n2,\"Bruno\r\nRossi";
    check_rejects(
        &spec("t.csv", "csv", NAMES),
        "data/t.csv",
        b"\xEF\xBB\xBFid,label\r\n1,Anna\r\n",
        Some(bad),
        &[&format!(
            "data/t.csv:3 (byte {}): the file ends inside a quoted field",
            offset(bad, b"2,\"Bruno")
        )],
    );
}

#[test]
fn json_lines_that_are_not_objects_or_not_typed_right_are_quarantined() {
    let dir = TempDir::new().expect("tempdir");
    let jsonl = b"{\"id\": 1, \"label\": \"a\"}\r\n{\"id\": 2, \"label\": \"b\"\r\n{\"id\": \"x\"}\r\n[1, 2]\r\n{\"id\": 1.5}\r\n{\"id\": 6, \"label\": \"f\"}";
    project(
        dir.path(),
        &[("t", &spec("t.jsonl", "jsonl", NAMES))],
        &[("data/t.jsonl", jsonl)],
    );
    build_ok(dir.path());
    check_quarantined(
        dir.path(),
        "t",
        6,
        &[
            (
                2,
                "",
                "row",
                "not a JSON object: eof while parsing an object",
            ),
            (3, "id", "type", "`x` is not a number"),
            (4, "", "row", "not a JSON object"),
            (5, "id", "type", "`1.5` is not a valid integer"),
        ],
    );
    assert_eq!(
        query(dir.path(), "SELECT id, _line FROM t ORDER BY id"),
        [["1", "1"], ["6", "6"]]
    );
}

#[test]
fn json_lines_truncated_in_the_last_line() {
    let bad: &[u8] = b"{\"id\": 1, \"label\": \"a\"}\n{\"id\": 2, \"na";
    check_rejects(
        &spec("t.jsonl", "jsonl", NAMES),
        "data/t.jsonl",
        b"{\"id\": 1, \"label\": \"a\"}\n",
        Some(bad),
        &[
            &format!(
                "data/t.jsonl:2 (byte {}): the last line is not complete JSON and has no newline",
                offset(bad, b"{\"id\": 2")
            ),
            "the file looks truncated",
        ],
    );
}
