//! Streaming Parquet writers for a snapshot's data and its quarantine, in bounded memory.

use crate::error::IngestError;
use crate::validate::{Failure, Value};
use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use model::ColumnType;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use project::SourceSpec;
use std::borrow::Cow;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows buffered before a record batch is handed to the Parquet writer.
const BATCH_ROWS: usize = 65_536;
/// Provenance columns added to every source table.
pub const FILE_COLUMN: &str = "_file";
pub const LINE_COLUMN: &str = model::LINE_COLUMN;

fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1 << 18))
        .build()
}

enum Builder {
    Str(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Date(Date32Builder),
}

impl Builder {
    fn new(ty: ColumnType) -> Builder {
        match ty {
            ColumnType::String => Builder::Str(StringBuilder::new()),
            ColumnType::Integer => Builder::Int(Int64Builder::new()),
            ColumnType::Float => Builder::Float(Float64Builder::new()),
            ColumnType::Boolean => Builder::Bool(BooleanBuilder::new()),
            ColumnType::Date => Builder::Date(Date32Builder::new()),
        }
    }

    fn append(&mut self, v: &Value<'_>) {
        match (self, v) {
            (Builder::Str(b), Value::Str(s)) => b.append_value(s),
            (Builder::Int(b), Value::Int(i)) => b.append_value(*i),
            (Builder::Float(b), Value::Float(f)) => b.append_value(*f),
            (Builder::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (Builder::Date(b), Value::Date(d)) => b.append_value(*d),
            (Builder::Str(b), _) => b.append_null(),
            (Builder::Int(b), _) => b.append_null(),
            (Builder::Float(b), _) => b.append_null(),
            (Builder::Bool(b), _) => b.append_null(),
            (Builder::Date(b), _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
        }
    }
}

pub(crate) fn arrow_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::String => DataType::Utf8,
        ColumnType::Integer => DataType::Int64,
        ColumnType::Float => DataType::Float64,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Date => DataType::Date32,
    }
}

/// A Parquet file written in batches of [`BATCH_ROWS`] rows: memory stays bounded whatever the
/// size of the input.
struct PartWriter {
    path: PathBuf,
    schema: SchemaRef,
    builders: Vec<Builder>,
    buffered: usize,
    rows: u64,
    writer: ArrowWriter<File>,
}

impl PartWriter {
    fn create(
        path: &Path,
        columns: &[(&str, ColumnType, bool)],
    ) -> Result<PartWriter, IngestError> {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, ty, nullable)| Field::new(*name, arrow_type(*ty), *nullable))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let f = File::create(path).map_err(|e| IngestError::io(path, &e))?;
        let writer = ArrowWriter::try_new(f, schema.clone(), Some(properties()))
            .map_err(|e| IngestError::Internal(format!("cannot start {}: {e}", path.display())))?;
        Ok(PartWriter {
            path: path.to_path_buf(),
            schema,
            builders: columns.iter().map(|(_, ty, _)| Builder::new(*ty)).collect(),
            buffered: 0,
            rows: 0,
            writer,
        })
    }

    /// Appends one row: `values` then `extra`, in schema order.
    fn append(&mut self, values: &[Value<'_>], extra: &[Value<'_>]) -> Result<(), IngestError> {
        for (b, v) in self.builders.iter_mut().zip(values.iter().chain(extra)) {
            b.append(v);
        }
        self.buffered += 1;
        self.rows += 1;
        if self.buffered >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), IngestError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let cols: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), cols).map_err(|e| {
            IngestError::Internal(format!("batch for {}: {e}", self.path.display()))
        })?;
        self.writer.write(&batch).map_err(|e| {
            IngestError::Internal(format!("cannot write {}: {e}", self.path.display()))
        })?;
        self.buffered = 0;
        Ok(())
    }

    /// Flushes, closes and syncs the file; returns the number of rows written.
    fn finish(mut self) -> Result<u64, IngestError> {
        self.flush()?;
        let rows = self.rows;
        let file = self.writer.into_inner().map_err(|e| {
            IngestError::Internal(format!("cannot finish {}: {e}", self.path.display()))
        })?;
        file.sync_all()
            .map_err(|e| IngestError::io(&self.path, &e))?;
        Ok(rows)
    }
}

/// Writes the loaded rows of a source: its canonical columns, then `_file` and `_line`.
pub(crate) struct DataWriter(PartWriter);

impl DataWriter {
    pub(crate) fn create(path: &Path, spec: &SourceSpec) -> Result<DataWriter, IngestError> {
        let mut columns: Vec<(&str, ColumnType, bool)> = spec
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.ty, true))
            .collect();
        columns.push((FILE_COLUMN, ColumnType::String, false));
        columns.push((LINE_COLUMN, ColumnType::Integer, false));
        PartWriter::create(path, &columns).map(DataWriter)
    }

    pub(crate) fn append(
        &mut self,
        values: &[Value<'_>],
        file: &str,
        line: u64,
    ) -> Result<(), IngestError> {
        self.0.append(
            values,
            &[Value::Str(Cow::Borrowed(file)), Value::Int(line as i64)],
        )
    }

    pub(crate) fn finish(self) -> Result<u64, IngestError> {
        self.0.finish()
    }
}

/// Writes quarantined rows: where they came from, why, and their raw values.
pub(crate) struct QuarantineWriter(PartWriter);

impl QuarantineWriter {
    pub(crate) fn create(path: &Path) -> Result<QuarantineWriter, IngestError> {
        let columns = [
            (FILE_COLUMN, ColumnType::String, false),
            (LINE_COLUMN, ColumnType::Integer, false),
            ("column", ColumnType::String, true),
            ("rule", ColumnType::String, false),
            ("reason", ColumnType::String, false),
            ("raw", ColumnType::String, false),
        ];
        PartWriter::create(path, &columns).map(QuarantineWriter)
    }

    /// One quarantined row. `failures` is never empty; the first failing column and rule are
    /// kept in their own columns, all messages in `reason`.
    pub(crate) fn append(
        &mut self,
        file: &str,
        line: u64,
        failures: &[Failure],
        raw_json: &str,
    ) -> Result<(), IngestError> {
        let first = &failures[0];
        let reason: Vec<String> = failures
            .iter()
            .map(|f| match &f.column {
                Some(c) => format!("{c}: {}", f.message),
                None => f.message.clone(),
            })
            .collect();
        let str_ = |s: &str| Value::Str(Cow::Owned(s.to_string()));
        self.0.append(
            &[
                Value::Str(Cow::Borrowed(file)),
                Value::Int(line as i64),
                first.column.as_deref().map_or(Value::Null, str_),
                Value::Str(Cow::Borrowed(first.rule)),
                Value::Str(Cow::Owned(reason.join("; "))),
                Value::Str(Cow::Borrowed(raw_json)),
            ],
            &[],
        )
    }

    pub(crate) fn finish(self) -> Result<u64, IngestError> {
        self.0.finish()
    }
}
