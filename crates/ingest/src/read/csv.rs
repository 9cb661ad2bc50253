//! Delimited text: any delimiter and quote, UTF-8 (BOM or not) or Windows-1252/Latin-1,
//! quoted fields with newlines, header on any line.

use super::{Cell, Row, Sink, map_header};
use crate::error::IngestError;
use model::Encoding;
use project::SourceSpec;
use std::borrow::Cow;
use std::cell::RefCell;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::rc::Rc;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub(super) fn read(spec: &SourceSpec, path: &Path, sink: &mut dyn Sink) -> Result<(), IngestError> {
    let mut file = std::fs::File::open(path).map_err(|e| IngestError::io(path, &e))?;
    let len = file
        .metadata()
        .map_err(|e| IngestError::io(path, &e))?
        .len();
    let mut bom = [0u8; 3];
    let n = file.read(&mut bom).map_err(|e| IngestError::io(path, &e))?;
    let has_bom = n == 3 && bom == UTF8_BOM;
    if has_bom && spec.encoding != Encoding::Utf8 {
        return Err(IngestError::file(
            path,
            1,
            format!(
                "the file starts with a UTF-8 byte-order mark but the spec declares {}",
                spec.encoding
            ),
        )
        .at_byte(0)
        .with_hint(format!(
            "set encoding = \"utf-8\" in {}",
            spec.spec_file.display()
        )));
    }
    let start = if has_bom { 3 } else { 0 };
    file.seek(SeekFrom::Start(start))
        .map_err(|e| IngestError::io(path, &e))?;
    let window = Rc::new(RefCell::new(Window::default()));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(spec.delimiter)
        .quote(spec.quote)
        .buffer_capacity(1 << 20)
        .from_reader(Tee {
            inner: BufReader::with_capacity(1 << 20, file),
            window: window.clone(),
        });

    let mut record = csv::ByteRecord::new();
    let mut decoder = Decoder::new(spec.encoding);
    // Skip to the header.
    let mut header: Option<(u64, Vec<String>)> = None;
    while header.is_none() {
        if !next(&mut reader, &mut record, path)? {
            return Err(IngestError::file(
                path,
                0,
                format!(
                    "the file ends before the header (header_row = {})",
                    spec.header_row
                ),
            )
            .with_hint("check `header_row` in the spec; an empty file has no header"));
        }
        let (line, byte) = window.borrow_mut().start(&record);
        decoder.check(&record, path, line, start + byte)?;
        if line as usize >= spec.header_row {
            let names = (0..record.len())
                .map(|i| decoder.decode(&record[i]).into_owned())
                .collect();
            header = Some((line, names));
        }
    }
    let (header_line, names) = header.unwrap_or_default();
    let positions = map_header(spec, path, header_line, &names)?;
    sink.header(&names);
    let width = names.len();

    let mut last_start = 0u64;
    let mut last_line = header_line;
    let mut last_len = width;
    let mut count = 0u64;
    while next(&mut reader, &mut record, path)? {
        let (line, pos) = window.borrow_mut().start(&record);
        decoder.check(&record, path, line, start + pos)?;
        last_start = pos;
        last_line = line;
        last_len = record.len();
        let mut cells = Vec::with_capacity(positions.len());
        for &i in &positions {
            cells.push(match record.get(i) {
                None => Cell::Null,
                Some(bytes) => Cell::Text(decoder.decode(bytes)),
            });
        }
        let end = reader.position().byte();
        let problem = if record.len() != width {
            Some(format!(
                "expected {width} fields as in the header, found {} (a stray delimiter or quote?)",
                record.len()
            ))
        } else {
            window
                .borrow()
                .text_after_closing_quote(pos, end, spec.quote, spec.delimiter)
        };
        sink.row(&Row {
            line,
            cells: &cells,
            problem,
        })?;
        count += 1;
        if count.is_multiple_of(65_536) {
            sink.progress(start + reader.position().byte());
        }
    }
    decoder.finish(path, spec)?;
    sink.progress(len);
    if count > 0 {
        check_truncation(spec, path, start + last_start, last_line, last_len, width)?;
    }
    Ok(())
}

fn next<R: Read>(
    reader: &mut csv::Reader<R>,
    record: &mut csv::ByteRecord,
    path: &Path,
) -> Result<bool, IngestError> {
    reader.read_byte_record(record).map_err(|e| {
        let (line, byte) = e
            .position()
            .map_or((0, None), |p| (p.line(), Some(p.byte())));
        let mut err = IngestError::file(
            path,
            line,
            format!("cannot read csv: {}", e.to_string().to_lowercase()),
        );
        if let Some(b) = byte {
            err = err.at_byte(b);
        }
        err
    })
}

/// The bytes the CSV parser has read ahead, kept until its records are located.
///
/// `csv` positions a record where the parser stood when it began looking for it, before the
/// line terminators and blank lines it skips; on CRLF files it stops at `\r`, so every record
/// was reported on the line before its own (and at the `\n` byte), blank lines shifted the
/// following lines, and a `header_row` past them picked the wrong row. Regression guarded by
/// the cli tests `inputs::crlf_line_endings_*`, `inputs::blank_lines_*` and
/// `inputs::header_row_in_a_crlf_file_*`.
#[derive(Default)]
struct Window {
    /// Stream offset of `bytes[0]`.
    base: u64,
    bytes: Vec<u8>,
}

impl Window {
    /// The (line, byte offset in the stream) where `record` really starts: past the `\r` and
    /// `\n` the parser skipped before it. Forgets the bytes before it, in large steps so that
    /// the cost stays linear.
    fn start(&mut self, record: &csv::ByteRecord) -> (u64, u64) {
        let Some(pos) = record.position() else {
            return (0, 0);
        };
        let from = pos.byte().saturating_sub(self.base) as usize;
        let (mut skipped, mut newlines) = (0u64, 0u64);
        for &b in self.bytes.get(from..).unwrap_or_default() {
            match b {
                b'\n' => newlines += 1,
                b'\r' => {}
                _ => break,
            }
            skipped += 1;
        }
        if from > (1 << 20) {
            self.bytes.drain(..from);
            self.base += from as u64;
        }
        (pos.line() + newlines, pos.byte() + skipped)
    }
}

impl Window {
    /// In the raw bytes of a record (`from..to` in the stream), text that follows the closing
    /// quote of a quoted field, as in `2,"Bruno" Rossi`. The CSV parser keeps such text and
    /// drops the quotes (`Bruno Rossi`): the row would load altered, so it is reported instead.
    fn text_after_closing_quote(
        &self,
        from: u64,
        to: u64,
        quote: u8,
        delimiter: u8,
    ) -> Option<String> {
        let a = from.checked_sub(self.base)? as usize;
        let b = (to.checked_sub(self.base)? as usize).min(self.bytes.len());
        let raw = self.bytes.get(a..b)?;
        if !raw.contains(&quote) {
            return None;
        }
        let stray = scan_quotes(raw, quote, delimiter).stray?;
        let field = String::from_utf8_lossy(&raw[stray]);
        Some(format!(
            "text follows the closing quote in `{field}`: the quotes are not balanced"
        ))
    }
}

/// Feeds the CSV parser and keeps a copy of what it read in the [`Window`].
struct Tee<R> {
    inner: R,
    window: Rc<RefCell<Window>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.window.borrow_mut().bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// What the quotes of some raw CSV bytes look like, read as the parser reads them: a quote opens
/// a field only at its start (a literal `"` inside a field, as in `Tubo 5" acciaio`, is text;
/// regression: such a last record failed the file as truncated, guarded by the cli test
/// `inputs::literal_quote_inside_the_last_field_is_not_truncation`), and `""` inside quotes is
/// an escaped quote.
struct QuoteScan {
    /// The bytes end inside a quoted field.
    unclosed: bool,
    /// The first field whose closing quote is followed by more text (its byte range).
    stray: Option<std::ops::Range<usize>>,
}

fn scan_quotes(raw: &[u8], quote: u8, delimiter: u8) -> QuoteScan {
    let ends_field = |c: u8| c == delimiter || c == b'\n' || c == b'\r';
    let (mut in_quotes, mut field_start, mut field_begin) = (false, true, 0);
    let mut stray = None;
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if in_quotes {
            if c == quote {
                if raw.get(i + 1) == Some(&quote) {
                    i += 1;
                } else {
                    in_quotes = false;
                    if stray.is_none() && raw.get(i + 1).is_some_and(|&n| !ends_field(n)) {
                        let end = raw[i + 1..]
                            .iter()
                            .position(|&x| ends_field(x))
                            .map_or(raw.len(), |p| i + 1 + p);
                        stray = Some(field_begin..end);
                    }
                }
            }
        } else if c == quote && field_start {
            in_quotes = true;
            field_begin = i;
            field_start = false;
        } else {
            field_start = ends_field(c);
        }
        i += 1;
    }
    QuoteScan {
        unclosed: in_quotes,
        stray,
    }
}

/// A file cut short: the last record is incomplete or sits inside an unclosed quote.
fn check_truncation(
    spec: &SourceSpec,
    path: &Path,
    last_start: u64,
    last_line: u64,
    last_len: usize,
    width: usize,
) -> Result<(), IngestError> {
    let mut f = std::fs::File::open(path).map_err(|e| IngestError::io(path, &e))?;
    f.seek(SeekFrom::Start(last_start))
        .map_err(|e| IngestError::io(path, &e))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail)
        .map_err(|e| IngestError::io(path, &e))?;
    if scan_quotes(&tail, spec.quote, spec.delimiter).unclosed {
        return Err(IngestError::file(
            path,
            last_line,
            "the file ends inside a quoted field that starts on this line: it looks truncated"
                .to_string(),
        )
        .at_byte(last_start)
        .with_hint("ask the holder for the complete file"));
    }
    let ends_with_newline = tail.last().is_some_and(|b| *b == b'\n' || *b == b'\r');
    if !ends_with_newline && last_len < width {
        return Err(IngestError::file(
            path,
            last_line,
            format!("the last record has {last_len} of {width} fields and the file does not end with a newline: it looks truncated"),
        )
        .at_byte(last_start)
        .with_hint("ask the holder for the complete file"));
    }
    Ok(())
}

/// Decodes fields and checks that the file is in the declared encoding.
struct Decoder {
    encoding: Encoding,
    /// For single-byte encodings: whether every non-ASCII record seen was valid UTF-8, and
    /// where the first one was (a UTF-8 file declared as Windows-1252 would load as mojibake).
    all_high_valid_utf8: bool,
    first_high: Option<(u64, String)>,
}

impl Decoder {
    fn new(encoding: Encoding) -> Self {
        Decoder {
            encoding,
            all_high_valid_utf8: true,
            first_high: None,
        }
    }

    /// `line` and `byte` locate the record's start in the file.
    fn check(
        &mut self,
        record: &csv::ByteRecord,
        path: &Path,
        line: u64,
        byte: u64,
    ) -> Result<(), IngestError> {
        let bytes = record.as_slice();
        if bytes.is_ascii() {
            return Ok(());
        }
        let valid = std::str::from_utf8(bytes);
        match self.encoding {
            Encoding::Utf8 => {
                if let Err(e) = valid {
                    // The bytes of the record are stored without delimiters; report the record start.
                    return Err(IngestError::file(
                        path,
                        line,
                        format!("invalid UTF-8 (byte 0x{:02X} in this record) but the spec declares utf-8", bytes[e.valid_up_to()]),
                    )
                    .at_byte(byte)
                    .with_hint("the file is probably windows-1252 (the usual Windows export): set encoding = \"windows-1252\""));
                }
            }
            Encoding::Windows1252 | Encoding::Latin1 => match valid {
                Ok(text) => {
                    if self.first_high.is_none() {
                        let sample = text.chars().filter(|c| !c.is_ascii()).take(3).collect();
                        self.first_high = Some((line, sample));
                    }
                }
                Err(_) => self.all_high_valid_utf8 = false,
            },
        }
        Ok(())
    }

    fn finish(&self, path: &Path, spec: &SourceSpec) -> Result<(), IngestError> {
        if self.encoding != Encoding::Utf8
            && self.all_high_valid_utf8
            && let Some((line, sample)) = &self.first_high
        {
            return Err(IngestError::file(
                path,
                *line,
                format!(
                    "the spec declares {} but the text is UTF-8 (e.g. `{sample}` on this line would load as mojibake)",
                    spec.encoding
                ),
            )
            .with_hint(format!("set encoding = \"utf-8\" in {}", spec.spec_file.display())));
        }
        Ok(())
    }

    fn decode<'a>(&self, bytes: &'a [u8]) -> Cow<'a, str> {
        match self.encoding {
            // Validity was checked per record in `check`.
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(bytes),
            },
            Encoding::Windows1252 | Encoding::Latin1 => {
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0
            }
        }
    }
}
