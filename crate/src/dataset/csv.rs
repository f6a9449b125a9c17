//! The official puzzle CSV files (`source,question,answer,rating` with a header line), as the official
//! builders read them with Python's `csv` module: comma-separated, optional double quotes, `""` inside
//! quotes for a quote.

/// One data row of an official CSV file.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvRecord {
    /// 1-based line number in the file, for error messages.
    pub line: usize,
    pub source: String,
    pub question: String,
    pub answer: String,
    pub rating: String,
}

/// Split one CSV line into fields.
pub fn split_row(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if at_start => {
                quoted = true;
                at_start = false;
            }
            (true, '"') => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
            }
            (_, c) => {
                field.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    fields.push(field);
    Ok(fields)
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}: {problem}")]
pub struct CsvError {
    pub file: String,
    pub line: usize,
    pub problem: String,
}

/// Read a whole official CSV file: skip the header, expect 4 fields per row. Empty lines are skipped.
/// `file` names the file in errors.
pub fn read_records(text: &str, file: &str) -> Result<Vec<CsvRecord>, CsvError> {
    let err = |line: usize, problem: String| CsvError { file: file.to_string(), line, problem };
    let mut out = Vec::new();
    // iterator skip, not a skipped test: line 0 is the header row
    for (i, raw) in text.lines().enumerate().skip(1) {
        let line = raw.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let f = split_row(line).map_err(|p| err(i + 1, p))?;
        let [source, question, answer, rating]: [String; 4] = f
            .try_into()
            .map_err(|f: Vec<String>| err(i + 1, format!("expected 4 fields (source,question,answer,rating), found {}", f.len())))?;
        out.push(CsvRecord { line: i + 1, source, question, answer, rating });
    }
    Ok(out)
}
