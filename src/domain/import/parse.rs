//! Reading attendee lists: CSV (header row; email, name, company, headline, topics, want_to_learn)
//! or JSON (`{"attendees": [{…}]}`). A bad row is reported, never fatal; a bad file is.

use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};

/// The most rows one import takes.
pub const MAX_ROWS: usize = 10_000;
/// Columns (CSV) and keys (JSON) an attendee row may have.
pub const COLUMNS: [&str; 6] = ["email", "name", "company", "headline", "topics", "want_to_learn"];

/// One row as read: its line (CSV: the line it starts on, the header being line 1; JSON: its
/// 1-based position in `attendees`) and its fields, or why they could not be read.
#[derive(Debug)]
pub struct RawRow {
    pub line: usize,
    pub fields: Result<RowFields, String>,
}

/// The fields of a row; `None` where the row leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct RowFields {
    pub email: String,
    pub name: Option<String>,
    pub company: Option<String>,
    pub headline: Option<String>,
    pub can_talk_about: Option<Vec<String>>,
    pub want_to_learn: Option<Vec<String>>,
}

fn empty_import() -> Error {
    Error::new(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::EmptyImport,
        "The import has no attendee rows.",
    )
}

fn too_many_rows() -> Error {
    Error::new(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::TooManyRows,
        format!("An import takes at most {MAX_ROWS} rows; split the file."),
    )
}

/// Topic slugs from a cell: separated by `;`, `,` or `|`.
fn split_topics(cell: &str) -> Vec<String> {
    cell.split([';', ',', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn non_empty(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

pub fn csv(bytes: &[u8]) -> Result<Vec<RawRow>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(empty_import());
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|e| {
            Error::new(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidCsv,
                format!("The header row cannot be read: {e}."),
            )
        })?
        .clone();
    let columns = header_columns(&header)?;
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    // Line numbers counted from byte offsets: the csv crate's own count trips on mixed endings.
    let mut lines = LineCounter::default();
    loop {
        let line = lines.line_at(bytes, usize::try_from(reader.position().byte()).unwrap_or(0));
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                rows.push(RawRow { line, fields: Err(format!("cannot be read as CSV: {e}")) });
                continue;
            }
        }
        if rows.len() == MAX_ROWS {
            return Err(too_many_rows());
        }
        let start = record.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
        let line = lines.line_at(bytes, start);
        rows.push(RawRow { line, fields: csv_fields(&columns, &record) });
    }
    if rows.is_empty() {
        return Err(empty_import());
    }
    Ok(rows)
}

/// The 1-based line of a byte offset, counting forward from the last offset asked about.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: usize,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], offset: usize) -> usize {
        let mut offset = offset.min(bytes.len());
        // A record can be said to start at the `\n` of the previous line's `\r\n`.
        while offset < bytes.len() && matches!(bytes[offset], b'\r' | b'\n') {
            offset += 1;
        }
        if offset > self.offset {
            self.newlines += bytes[self.offset..offset].iter().filter(|b| **b == b'\n').count();
            self.offset = offset;
        }
        self.newlines + 1
    }
}

/// The known column name of each header cell; unknown, duplicate or missing `email` is an error.
fn header_columns(header: &csv::ByteRecord) -> Result<Vec<&'static str>> {
    let mut columns = Vec::with_capacity(header.len());
    let mut problems = Vec::new();
    for cell in header {
        let name = String::from_utf8_lossy(cell).trim().to_lowercase().replace(' ', "_");
        let name = if name == "can_talk_about" { "topics".to_owned() } else { name };
        match COLUMNS.iter().find(|c| **c == name) {
            Some(column) if columns.contains(column) => {
                problems.push(format!("`{name}` appears twice"))
            }
            Some(column) => columns.push(*column),
            None => problems.push(format!("`{name}` is not a known column")),
        }
    }
    if !columns.contains(&"email") {
        problems.push("the `email` column is missing".to_owned());
    }
    if problems.is_empty() {
        return Ok(columns);
    }
    Err(Error::new(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::InvalidCsvHeader,
        format!(
            "The header row is not right: {}. Columns are: {} (only email is required).",
            problems.join("; "),
            COLUMNS.join(", ")
        ),
    ))
}

fn csv_fields(columns: &[&str], record: &csv::ByteRecord) -> Result<RowFields, String> {
    if record.len() != columns.len() {
        return Err(format!("has {} fields, the header has {}", record.len(), columns.len()));
    }
    let mut fields = RowFields::default();
    for (column, cell) in columns.iter().zip(record) {
        let value = std::str::from_utf8(cell).map_err(|_| {
            format!("the `{column}` field is not valid UTF-8 (save the file as UTF-8)")
        })?;
        match *column {
            "email" => fields.email = value.trim().to_owned(),
            "name" => fields.name = non_empty(value),
            "company" => fields.company = non_empty(value),
            "headline" => fields.headline = non_empty(value),
            "topics" => fields.can_talk_about = non_empty(value).map(|v| split_topics(&v)),
            _ => fields.want_to_learn = non_empty(value).map(|v| split_topics(&v)),
        }
    }
    Ok(fields)
}

pub fn json(bytes: &[u8]) -> Result<Vec<RawRow>> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        Error::bad_request(ErrorCode::MalformedJson, format!("The body is not valid JSON: {e}."))
    })?;
    let items = match value {
        Value::Object(mut object) if object.len() == 1 => match object.remove("attendees") {
            Some(Value::Array(items)) => items,
            _ => return Err(wrong_shape()),
        },
        _ => return Err(wrong_shape()),
    };
    if items.is_empty() {
        return Err(empty_import());
    }
    if items.len() > MAX_ROWS {
        return Err(too_many_rows());
    }
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| RawRow { line: i + 1, fields: json_fields(item) })
        .collect())
}

fn wrong_shape() -> Error {
    Error::bad_request(
        ErrorCode::InvalidBody,
        "The body must be an object with one key, `attendees`, holding an array of attendee objects.",
    )
}

fn json_fields(item: Value) -> Result<RowFields, String> {
    let Value::Object(object) = item else { return Err("is not an object".to_owned()) };
    let mut fields = RowFields::default();
    for (key, value) in object {
        let text = |value: Value| match value {
            Value::String(s) => Ok(non_empty(&s)),
            Value::Null => Ok(None),
            _ => Err(format!("`{key}` must be a string")),
        };
        let list = |value: Value| match value {
            Value::Array(items) => items
                .into_iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("`{key}` must be an array of topic slugs"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Value::Null => Ok(None),
            _ => Err(format!("`{key}` must be an array of topic slugs")),
        };
        match key.as_str() {
            "email" => fields.email = text(value)?.unwrap_or_default(),
            "name" => fields.name = text(value)?,
            "company" => fields.company = text(value)?,
            "headline" => fields.headline = text(value)?,
            "topics" | "can_talk_about" => fields.can_talk_about = list(value)?,
            "want_to_learn" => fields.want_to_learn = list(value)?,
            other => return Err(format!("has the unknown field `{other}`")),
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emails(rows: &[RawRow]) -> Vec<(usize, String)> {
        rows.iter()
            .map(|r| {
                (r.line, r.fields.as_ref().map(|f| f.email.clone()).unwrap_or_else(|e| e.clone()))
            })
            .collect()
    }

    #[test]
    fn a_bom_mixed_line_endings_and_quoted_commas_are_read() {
        let file = b"\xEF\xBB\xBFEmail,Name,Company\r\na@example.org,\"Lovelace, Ada\",Analytical\nb@example.org,Bob,\r\n";
        let rows = csv(file).unwrap();
        assert_eq!(
            emails(&rows),
            [(2, "a@example.org".to_owned()), (3, "b@example.org".to_owned())]
        );
        let first = rows[0].fields.as_ref().unwrap();
        assert_eq!(first.name.as_deref(), Some("Lovelace, Ada"));
        assert_eq!(rows[1].fields.as_ref().unwrap().company, None);
    }

    #[test]
    fn a_non_utf8_byte_rejects_only_its_row() {
        let rows = csv(b"email,name\na@example.org,Ren\xE9\nb@example.org,Bob\n").unwrap();
        assert!(rows[0].fields.as_ref().unwrap_err().contains("UTF-8"));
        assert!(rows[1].fields.is_ok());
    }

    #[test]
    fn a_wrong_header_or_an_empty_file_is_refused() {
        assert_eq!(csv(b"emial,name\nx@example.org,X\n").unwrap_err().code(), "invalid_csv_header");
        assert_eq!(csv(b"").unwrap_err().code(), "empty_import");
        assert_eq!(csv(b"email,name\n").unwrap_err().code(), "empty_import");
    }

    #[test]
    fn more_than_10000_rows_are_refused() {
        let mut file = String::from("email\n");
        for i in 0..=MAX_ROWS {
            file.push_str(&format!("p{i}@example.org\n"));
        }
        assert_eq!(csv(file.as_bytes()).unwrap_err().code(), "too_many_rows");
    }

    #[test]
    fn json_rows_with_wrong_types_are_rejected_one_by_one() {
        let rows = json(br#"{"attendees":[{"email":"a@example.org","topics":["rust"]},{"email":5},{"email":"c@example.org","shoe":1}]}"#).unwrap();
        assert!(rows[0].fields.is_ok());
        assert!(rows[1].fields.as_ref().unwrap_err().contains("`email` must be a string"));
        assert!(rows[2].fields.as_ref().unwrap_err().contains("unknown field `shoe`"));
        assert_eq!(json(br#"[{"email":"a@example.org"}]"#).unwrap_err().code(), "invalid_body");
    }
}
