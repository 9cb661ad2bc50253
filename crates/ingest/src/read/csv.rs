//! Delimited text: any delimiter and quote, UTF-8 (BOM or not) or Windows-1252/Latin-1,
//! quoted fields with newlines, header on any line.

use super::{Cell, Row, Sink, map_header};
use crate::error::IngestError;
use model::Encoding;
use project::SourceSpec;
use std::borrow::Cow;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub(super) fn read(spec: &SourceSpec, path: &Path, sink: &mut dyn Sink) -> Result<(), IngestError> {
    let mut file = std::fs::File::open(path).map_err(|e| IngestError::io(path, &e))?;
    let len = file.metadata().map_err(|e| IngestError::io(path, &e))?.len();
    let mut bom = [0u8; 3];
    let n = file.read(&mut bom).map_err(|e| IngestError::io(path, &e))?;
    let has_bom = n == 3 && bom == UTF8_BOM;
    if has_bom && spec.encoding != Encoding::Utf8 {
        return Err(IngestError::file(
            path,
            1,
            format!("the file starts with a UTF-8 byte-order mark but the spec declares {}", spec.encoding),
        )
        .at_byte(0)
        .with_hint(format!("set encoding = \"utf-8\" in {}", spec.spec_file.display())));
    }
    let start = if has_bom { 3 } else { 0 };
    file.seek(SeekFrom::Start(start)).map_err(|e| IngestError::io(path, &e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(spec.delimiter)
        .quote(spec.quote)
        .buffer_capacity(1 << 20)
        .from_reader(BufReader::with_capacity(1 << 20, file));

    let mut record = csv::ByteRecord::new();
    let mut decoder = Decoder::new(spec.encoding);
    // Skip to the header.
    let mut header: Option<(u64, Vec<String>)> = None;
    while header.is_none() {
        if !next(&mut reader, &mut record, path)? {
            return Err(IngestError::file(
                path,
                0,
                format!("the file ends before the header (header_row = {})", spec.header_row),
            )
            .with_hint("check `header_row` in the spec; an empty file has no header"));
        }
        let line = line_of(&record);
        decoder.check(&record, path, start)?;
        if line as usize >= spec.header_row {
            let names = (0..record.len())
                .map(|i| decoder.decode(&record[i]).into_owned())
                .collect();
            header = Some((line, names));
        }
    }
    let (header_line, names) = header.unwrap_or_default();
    let positions = map_header(spec, path, header_line, &names)?;
    let width = names.len();

    let mut last_start = 0u64;
    let mut last_line = header_line;
    let mut last_len = width;
    let mut count = 0u64;
    while next(&mut reader, &mut record, path)? {
        let line = line_of(&record);
        let pos = record.position().map_or(0, |p| p.byte());
        decoder.check(&record, path, start)?;
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
        let problem = (record.len() != width).then(|| {
            format!(
                "expected {width} fields as in the header, found {} (a stray delimiter or quote?)",
                record.len()
            )
        });
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

fn next<R: Read>(reader: &mut csv::Reader<R>, record: &mut csv::ByteRecord, path: &Path) -> Result<bool, IngestError> {
    reader.read_byte_record(record).map_err(|e| {
        let (line, byte) = e.position().map_or((0, None), |p| (p.line(), Some(p.byte())));
        let mut err = IngestError::file(path, line, format!("cannot read csv: {}", e.to_string().to_lowercase()));
        if let Some(b) = byte {
            err = err.at_byte(b);
        }
        err
    })
}

fn line_of(record: &csv::ByteRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

/// A file cut short: the last record is incomplete or sits inside an unclosed quote.
fn check_truncation(spec: &SourceSpec, path: &Path, last_start: u64, last_line: u64, last_len: usize, width: usize) -> Result<(), IngestError> {
    let mut f = std::fs::File::open(path).map_err(|e| IngestError::io(path, &e))?;
    f.seek(SeekFrom::Start(last_start)).map_err(|e| IngestError::io(path, &e))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(|e| IngestError::io(path, &e))?;
    let quotes = tail.iter().filter(|&&b| b == spec.quote).count();
    if quotes % 2 == 1 {
        return Err(IngestError::file(
            path,
            last_line,
            "the file ends inside a quoted field that starts on this line: it looks truncated".to_string(),
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

    fn check(&mut self, record: &csv::ByteRecord, path: &Path, offset: u64) -> Result<(), IngestError> {
        let bytes = record.as_slice();
        if bytes.is_ascii() {
            return Ok(());
        }
        let valid = std::str::from_utf8(bytes);
        match self.encoding {
            Encoding::Utf8 => {
                if let Err(e) = valid {
                    let pos = record.position();
                    let line = pos.map_or(0, |p| p.line());
                    // The bytes of the record are stored without delimiters; report the record start.
                    let byte = pos.map_or(0, |p| p.byte()) + offset;
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
                        let line = record.position().map_or(0, |p| p.line());
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
            Encoding::Utf8 => String::from_utf8_lossy(bytes),
            Encoding::Windows1252 | Encoding::Latin1 => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
        }
    }
}
