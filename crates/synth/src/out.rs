//! Output plumbing: counted buffered files, a line builder with the formats Italian exports
//! use (dates `dd/mm/yyyy`, decimal commas, thousands dots), and progress reporting.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

use crate::{SynthError, SynthProgress};

thread_local! {
    /// Data rows written by this thread (a generation runs on one thread).
    static ROWS_WRITTEN: Cell<u64> = const { Cell::new(0) };
}

/// Counts rows written outside a [`Sink`] (the XLSX workbook).
pub fn count_rows(n: u64) {
    ROWS_WRITTEN.with(|c| c.set(c.get() + n));
}

/// The files written so far: path relative to the output folder, rows, bytes.
#[derive(Default)]
pub struct Manifest {
    pub files: Vec<(PathBuf, u64, u64)>,
}

/// A buffered output file that counts bytes, data rows and physical lines.
pub struct Sink {
    root: PathBuf,
    rel: PathBuf,
    w: BufWriter<File>,
    bytes: u64,
    rows: u64,
    lines: u64,
    encoding: Encoding,
    scratch: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1252,
}

impl Sink {
    pub fn create(root: &Path, rel: &str) -> Result<Sink, SynthError> {
        let rel = PathBuf::from(rel);
        let path = root.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| SynthError::io(dir, e))?;
        }
        let f = File::create(&path).map_err(|e| SynthError::io(&path, e))?;
        Ok(Sink {
            root: root.to_path_buf(),
            rel,
            w: BufWriter::with_capacity(1 << 18, f),
            bytes: 0,
            rows: 0,
            lines: 0,
            encoding: Encoding::Utf8,
            scratch: Vec::new(),
        })
    }

    pub fn with_encoding(mut self, encoding: Encoding) -> Sink {
        self.encoding = encoding;
        self
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), SynthError> {
        let data: &[u8] = match self.encoding {
            Encoding::Utf8 => bytes,
            Encoding::Windows1252 => {
                let s = std::str::from_utf8(bytes).expect("lines are built as UTF-8");
                let (enc, _, _) = encoding_rs::WINDOWS_1252.encode(s);
                self.scratch.clear();
                self.scratch.extend_from_slice(&enc);
                &self.scratch
            }
        };
        self.bytes += data.len() as u64;
        let path = self.root.join(&self.rel);
        self.w.write_all(data).map_err(|e| SynthError::io(&path, e))
    }

    /// Writes bytes that are not a data row (a header, a byte-order mark).
    pub fn header(&mut self, bytes: &[u8]) -> Result<(), SynthError> {
        self.lines += count_newlines(bytes);
        self.put(bytes)
    }

    /// Writes one data row (which may span several physical lines).
    pub fn row(&mut self, bytes: &[u8]) -> Result<(), SynthError> {
        self.rows += 1;
        count_rows(1);
        self.lines += count_newlines(bytes);
        self.put(bytes)
    }

    /// The 1-based physical line the next row will start on.
    pub fn next_line(&self) -> u64 {
        self.lines + 1
    }

    pub fn finish(mut self, manifest: &mut Manifest) -> Result<(), SynthError> {
        let path = self.root.join(&self.rel);
        self.w.flush().map_err(|e| SynthError::io(&path, e))?;
        manifest
            .files
            .push((self.rel.clone(), self.rows, self.bytes));
        Ok(())
    }
}

fn count_newlines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// Writes a small whole file and records it in the manifest.
pub fn write_file(
    root: &Path,
    rel: &str,
    text: &str,
    rows: u64,
    manifest: &mut Manifest,
) -> Result<(), SynthError> {
    let path = root.join(rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| SynthError::io(dir, e))?;
    }
    std::fs::write(&path, text).map_err(|e| SynthError::io(&path, e))?;
    count_rows(rows);
    manifest
        .files
        .push((PathBuf::from(rel), rows, text.len() as u64));
    Ok(())
}

/// Builds one delimited line in a reusable buffer.
pub struct Line {
    pub buf: Vec<u8>,
    delim: u8,
    first: bool,
}

impl Line {
    pub fn new(delim: u8) -> Line {
        Line {
            buf: Vec::with_capacity(256),
            delim,
            first: true,
        }
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.first = true;
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(self.delim);
        }
        self.first = false;
    }

    /// A field written as is.
    pub fn text(&mut self, s: &str) -> &mut Line {
        self.sep();
        self.buf.extend_from_slice(s.as_bytes());
        self
    }

    pub fn bytes(&mut self, s: &[u8]) -> &mut Line {
        self.sep();
        self.buf.extend_from_slice(s);
        self
    }

    /// A field in double quotes, inner quotes doubled.
    pub fn quoted(&mut self, s: &str) -> &mut Line {
        self.sep();
        self.buf.push(b'"');
        for &b in s.as_bytes() {
            if b == b'"' {
                self.buf.push(b'"');
            }
            self.buf.push(b);
        }
        self.buf.push(b'"');
        self
    }

    pub fn empty(&mut self) -> &mut Line {
        self.sep();
        self
    }

    pub fn int(&mut self, v: u64) -> &mut Line {
        self.sep();
        push_uint(&mut self.buf, v, 1);
        self
    }

    /// A prefix followed by a zero-padded number (ids such as `A01000001`).
    pub fn id(&mut self, prefix: &str, v: u64, width: usize) -> &mut Line {
        self.sep();
        self.buf.extend_from_slice(prefix.as_bytes());
        push_uint(&mut self.buf, v, width);
        self
    }

    /// `dd/mm/yyyy`.
    pub fn dmy(&mut self, d: NaiveDate) -> &mut Line {
        self.sep();
        push_dmy(&mut self.buf, d);
        self
    }

    /// `yyyy-mm-dd`.
    pub fn iso(&mut self, d: NaiveDate) -> &mut Line {
        self.sep();
        push_iso(&mut self.buf, d);
        self
    }

    pub fn end(&mut self) -> &[u8] {
        self.buf.extend_from_slice(b"\n");
        &self.buf
    }
}

pub fn push_uint(buf: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut tmp = [0u8; 20];
    let mut n = 0;
    loop {
        tmp[n] = b'0' + (v % 10) as u8;
        v /= 10;
        n += 1;
        if v == 0 {
            break;
        }
    }
    for _ in n..width {
        buf.push(b'0');
    }
    for k in (0..n).rev() {
        buf.push(tmp[k]);
    }
}

pub fn push_dmy(buf: &mut Vec<u8>, d: NaiveDate) {
    push_uint(buf, d.day() as u64, 2);
    buf.push(b'/');
    push_uint(buf, d.month() as u64, 2);
    buf.push(b'/');
    push_uint(buf, d.year() as u64, 4);
}

pub fn push_iso(buf: &mut Vec<u8>, d: NaiveDate) {
    push_uint(buf, d.year() as u64, 4);
    buf.push(b'-');
    push_uint(buf, d.month() as u64, 2);
    buf.push(b'-');
    push_uint(buf, d.day() as u64, 2);
}

pub fn dmy(d: NaiveDate) -> String {
    let mut b = Vec::with_capacity(10);
    push_dmy(&mut b, d);
    String::from_utf8(b).expect("ascii")
}

pub fn iso(d: NaiveDate) -> String {
    let mut b = Vec::with_capacity(10);
    push_iso(&mut b, d);
    String::from_utf8(b).expect("ascii")
}

/// Amount with a decimal comma and, optionally, `.` thousands separators: `12.345,67`.
pub fn amount_it(v: f64, thousands: bool) -> String {
    let cents = (v * 100.0).round() as i64;
    let neg = cents < 0;
    let cents = cents.unsigned_abs();
    let units = cents / 100;
    let mut digits = units.to_string();
    if thousands && digits.len() > 3 {
        let mut grouped = String::new();
        let first = digits.len() % 3;
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (i + 3 - first).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        digits = grouped;
    }
    format!(
        "{}{},{:02}",
        if neg { "-" } else { "" },
        digits,
        cents % 100
    )
}

/// Amount with a decimal point and two decimals.
pub fn amount_dot(v: f64) -> String {
    format!("{:.2}", (v * 100.0).round() / 100.0)
}

/// Last day of a month.
pub fn month_end(year: i32, month: u32) -> NaiveDate {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .expect("valid month")
        .pred_opt()
        .expect("not the first day ever")
}

pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Progress reporting: stages, and rows written since the last report (in batches).
pub struct Progress<'a> {
    cb: &'a mut dyn FnMut(SynthProgress),
    reported: u64,
}

impl<'a> Progress<'a> {
    pub fn new(cb: &'a mut dyn FnMut(SynthProgress)) -> Progress<'a> {
        Progress {
            cb,
            reported: ROWS_WRITTEN.with(Cell::get),
        }
    }

    pub fn stage(&mut self, name: &'static str) {
        self.flush();
        (self.cb)(SynthProgress::Stage(name));
    }

    /// Reports the rows written so far, if there are enough of them.
    pub fn poll(&mut self) {
        if ROWS_WRITTEN.with(Cell::get) - self.reported >= 50_000 {
            self.flush();
        }
    }

    pub fn flush(&mut self) {
        let now = ROWS_WRITTEN.with(Cell::get);
        if now > self.reported {
            (self.cb)(SynthProgress::Rows(now - self.reported));
            self.reported = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(amount_it(12345.674, true), "12.345,67");
        assert_eq!(amount_it(1234567.0, true), "1.234.567,00");
        assert_eq!(amount_it(999.5, true), "999,50");
        assert_eq!(amount_it(-1234.0, true), "-1.234,00");
        assert_eq!(amount_it(1300.5, false), "1300,50");
        assert_eq!(amount_dot(12.0), "12.00");
        assert_eq!(dmy(ymd(2021, 3, 5)), "05/03/2021");
        assert_eq!(iso(ymd(2021, 3, 5)), "2021-03-05");
        assert_eq!(month_end(2024, 2), ymd(2024, 2, 29));
        assert_eq!(month_end(2023, 12), ymd(2023, 12, 31));
    }
}
