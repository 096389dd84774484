//! `flowbot export` and `flowbot form`: load the cases from the store, build the table
//! ([`crate::domain::records::export`]) or the page ([`crate::domain::records::form`]) and write the file: CSV (UTF-8 with a BOM so
//! spreadsheet programs read the Chinese right, RFC 4180 quoting), XLSX, or HTML. The same
//! tables reach the chat as XLSX files ([`xlsx_file`], built by the outbox sender).

use std::path::Path;

use anyhow::{Context, bail};
use rust_xlsxwriter::{ExcelDateTime, Format as XlsxFormat, Workbook};

use crate::adapters::store::Store;
use crate::base::scripts::{ExportTexts, Scripts};
use crate::domain::assessment;
use crate::domain::incidents::{self, Incident};
use crate::domain::records::export::{self, Cell, Table};
pub use crate::domain::records::export::{Export, What};
use crate::domain::records::{
    ALL_CASES, Case, CaseStatus, HistoryEntry, HistoryKind, REGISTER, REGISTER_PREFIX, form,
    register_number_index, register_view,
};
use crate::domain::reminders::duty::{ALL_DUTIES, Duty};
use crate::domain::reposts;

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// UTF-8 with a BOM, RFC 4180 quoting.
    Csv,
    Xlsx,
}

/// The byte order mark that tells spreadsheet programs a CSV file is UTF-8.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn texts(scripts: &Scripts) -> anyhow::Result<&ExportTexts> {
    scripts
        .export
        .as_ref()
        .context("bot.toml has no [export] table: add one (see the shipped bot-scripts)")
}

/// The cases of `index`, in its order (numbers without a body are skipped).
pub async fn load(store: &dyn Store, index: &str) -> anyhow::Result<Vec<Case>> {
    let mut cases = Vec::new();
    for number in store.cases_in(index).await? {
        let Some(record) = store.get_case(&number).await? else {
            continue;
        };
        if record.body.is_empty() {
            continue;
        }
        let case = Case::from_json(&record.body)
            .with_context(|| format!("case {number}: stored body does not decode"))?;
        cases.push(case);
    }
    Ok(cases)
}

/// Builds the `what` table from the store.
pub async fn table(store: &dyn Store, scripts: &Scripts, what: What) -> anyhow::Result<Table> {
    table_of(
        store,
        scripts,
        &Export {
            what,
            units: None,
            year: None,
            task: None,
        },
    )
    .await
}

/// The annual review results of `year` (`flowbot export --what annual-review --year`).
pub async fn annual_table(
    store: &dyn Store,
    scripts: &Scripts,
    export: &Export,
) -> anyhow::Result<Table> {
    if scripts.annual_review.is_none() {
        bail!("bot.toml has no [campaigns.annual_review] table");
    }
    let Some(year) = export.year else {
        bail!("the annual review export needs its year (--year)");
    };
    let mut rows = crate::process::annual_review::results::load(store, year).await?;
    rows.retain(|r| export.covers(&r.unit));
    Ok(crate::domain::annual::results::table(scripts, year, &rows))
}

/// Builds the table of an export asked for in chat (its units only) from the store.
pub async fn table_of(
    store: &dyn Store,
    scripts: &Scripts,
    export: &Export,
) -> anyhow::Result<Table> {
    if export.what == What::Reposts {
        return reposts_table(store, scripts, export.task.as_deref()).await;
    }
    let index = match export.what {
        What::Register => REGISTER,
        What::Cases | What::Reposts => ALL_CASES,
        What::AnnualReview => return annual_table(store, scripts, export).await,
        What::Assessment { year } => return assessment(store, scripts, year).await,
    };
    let x = texts(scripts)?;
    let mut cases = load(store, index).await?;
    cases.retain(|c| export.covers(&c.unit));
    Ok(match export.what {
        What::Register => {
            let pending: Vec<Case> = load(store, ALL_CASES)
                .await?
                .into_iter()
                .filter(|c| c.status == CaseStatus::Pending)
                .collect();
            let changing = register_view::accounts_changing(scripts, &pending);
            export::register(scripts, x, &cases, &changing)
        }
        What::Cases | What::Reposts => export::cases(scripts, x, &cases),
        What::AnnualReview => unreachable!("built by annual_table"),
        What::Assessment { .. } => unreachable!("built above"),
    })
}

/// The repost tasks' sheet: one task, or every task.
async fn reposts_table(
    store: &dyn Store,
    scripts: &Scripts,
    task: Option<&str>,
) -> anyhow::Result<Table> {
    if scripts.reposts.is_none() {
        bail!("bot.toml has no [reposts] table: add one (see the shipped bot-scripts)");
    }
    let tasks = match task {
        Some(number) => bodies(store, vec![number.to_owned()]).await?,
        None => bodies(store, store.cases_in(reposts::ALL_TASKS).await?).await?,
    };
    Ok(reposts::sheet::table(scripts, scripts.time_zone, &tasks))
}

/// The records stored like cases whose bodies are `T` as JSON (duties, repost tasks,
/// incidents), in the order given; numbers without a record are skipped.
async fn bodies<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    numbers: Vec<String>,
) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::new();
    for number in numbers {
        let Some(record) = store.get_case(&number).await? else {
            continue;
        };
        let body = serde_json::from_str(&record.body)
            .with_context(|| format!("{number}: stored body does not decode"))?;
        out.push(body);
    }
    Ok(out)
}

/// The assessment sheet of `year` from the store: the register, every case, every duty, and
/// the records of the optional processes that bot.toml configures: the year's annual review
/// results (when its campaign was opened), every incident, every repost task.
async fn assessment(store: &dyn Store, scripts: &Scripts, year: i32) -> anyhow::Result<Table> {
    let def = scripts
        .assessment
        .as_ref()
        .context("bot.toml has no [assessment] table: add one (see the shipped bot-scripts)")?;
    let register = load(store, REGISTER).await?;
    let cases = load(store, ALL_CASES).await?;
    let duties: Vec<Duty> = bodies(store, store.cases_in(ALL_DUTIES).await?).await?;
    let results = crate::process::annual_review::results::campaign(store, year).await?;
    let annual = match (&scripts.annual_review, results) {
        (Some(_), Some(_)) => {
            Some(crate::process::annual_review::results::load(store, year).await?)
        }
        _ => None,
    };
    let incidents: Option<Vec<Incident>> = match scripts.incidents {
        Some(_) => Some(bodies(store, store.cases_in(incidents::ALL).await?).await?),
        None => None,
    };
    let tasks: Option<Vec<reposts::Task>> = match scripts.reposts {
        Some(_) => Some(bodies(store, store.cases_in(reposts::ALL_TASKS).await?).await?),
        None => None,
    };
    let records = assessment::Records {
        register: &register,
        cases: &cases,
        duties: &duties,
        annual: annual.as_deref(),
        incidents: incidents.as_deref(),
        reposts: tasks.as_deref(),
    };
    let figures = assessment::figures(year, scripts.time_zone, records);
    Ok(assessment::table(scripts, def, year, &figures))
}

/// The file of an export asked for in chat, built from the store as it is now: its name
/// (`<sheet>.xlsx`) and the XLSX bytes.
pub async fn xlsx_file(
    store: &dyn Store,
    scripts: &Scripts,
    export: &Export,
) -> anyhow::Result<(String, Vec<u8>)> {
    let table = table_of(store, scripts, export).await?;
    Ok((format!("{}.xlsx", table.sheet), xlsx_bytes(&table)?))
}

/// Exports `what` to `out` as `format`; returns the number of rows written.
pub async fn export(
    store: &dyn Store,
    scripts: &Scripts,
    what: What,
    format: FileFormat,
    out: &Path,
) -> anyhow::Result<usize> {
    let export = Export {
        what,
        units: None,
        year: None,
        task: None,
    };
    export_of(store, scripts, &export, format, out).await
}

/// Exports `export` (e.g. a year's annual review) to `out` as `format`; returns the number of
/// rows written.
pub async fn export_of(
    store: &dyn Store,
    scripts: &Scripts,
    export: &Export,
    format: FileFormat,
    out: &Path,
) -> anyhow::Result<usize> {
    let table = table_of(store, scripts, export).await?;
    match format {
        FileFormat::Csv => write_csv(&table, out)?,
        FileFormat::Xlsx => write_xlsx(&table, out)?,
    }
    Ok(table.rows.len())
}

/// Writes the filled form of `number` to `out` as a printable HTML page. A case number prints
/// the filing as it was signed (later change reports do not touch it); a register number
/// (`DJ-…`) prints the account's current entry with its change record: each confirmed change
/// report, its date and who confirmed it.
pub async fn form(
    store: &dyn Store,
    scripts: &Scripts,
    number: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let page = form_page(store, scripts, number).await?;
    std::fs::write(out, page).with_context(|| format!("writing {}", out.display()))
}

/// The printable HTML page of [`form`] (the desk serves it too).
pub async fn form_page(
    store: &dyn Store,
    scripts: &Scripts,
    number: &str,
) -> anyhow::Result<String> {
    let x = texts(scripts)?;
    let entry = number.starts_with(&format!("{REGISTER_PREFIX}-"));
    let case_number = if entry {
        let holders = store.cases_in(&register_number_index(number)).await?;
        let Some(holder) = holders.into_iter().last() else {
            bail!("no account registered as {number}");
        };
        holder
    } else {
        number.to_owned()
    };
    let Some(record) = store.get_case(&case_number).await? else {
        bail!("no case numbered {number}");
    };
    let mut case = Case::from_json(&record.body)
        .with_context(|| format!("case {number}: stored body does not decode"))?;
    let mut changes = Vec::new();
    if entry {
        for h in record
            .history
            .iter()
            .filter_map(|h| serde_json::from_str::<HistoryEntry>(h).ok())
        {
            if let HistoryKind::Changed {
                report,
                changes: lines,
            } = h.kind
            {
                let confirmed_by = confirmer(store, &report).await?.unwrap_or(h.by);
                changes.push(form::ChangeRecord {
                    at_ms: h.at_ms,
                    report,
                    confirmed_by,
                    changes: lines,
                });
            }
        }
    } else if let Some(signed) = case.signed_answers.clone() {
        case.answers = signed;
    }
    form::render(scripts, x, &case, &changes)
}

/// The name of whoever approved the last step of a change report.
async fn confirmer(store: &dyn Store, report: &str) -> anyhow::Result<Option<String>> {
    let Some(record) = store.get_case(report).await? else {
        return Ok(None);
    };
    let Ok(case) = Case::from_json(&record.body) else {
        return Ok(None);
    };
    Ok(case
        .chain
        .iter()
        .rev()
        .flat_map(|step| step.decisions.iter().rev())
        .find(|d| d.approve)
        .map(|d| d.by_name.clone()))
}

/// A text cell that a spreadsheet program would run as a formula gets a leading `'`.
fn csv_text(cell: &Cell) -> String {
    let text = cell.text();
    match (cell, text.chars().next()) {
        (Cell::Text(_), Some('=' | '+' | '-' | '@' | '\t' | '\r')) => format!("'{text}"),
        _ => text,
    }
}

/// The table as CSV: BOM, a header line, one record per row.
pub fn csv_bytes(table: &Table) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(UTF8_BOM.to_vec());
    w.write_record(&table.headers)?;
    for row in &table.rows {
        w.write_record(row.iter().map(csv_text))?;
    }
    Ok(w.into_inner().map_err(|e| e.into_error())?)
}

pub fn write_csv(table: &Table, out: &Path) -> anyhow::Result<()> {
    std::fs::write(out, csv_bytes(table)?).with_context(|| format!("writing {}", out.display()))
}

fn excel_time(cell: &Cell) -> anyhow::Result<Option<ExcelDateTime>> {
    use chrono::{Datelike, Timelike};
    let date = |d: chrono::NaiveDate| {
        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
    };
    Ok(match cell {
        Cell::Text(_) | Cell::Number(_) => None,
        Cell::Date(d) => Some(date(*d)?),
        Cell::Time(t) => {
            let (h, m) = (t.hour() as u16, t.minute() as u8);
            Some(date(t.date())?.and_hms(h, m, t.second())?)
        }
    })
}

pub fn write_xlsx(table: &Table, out: &Path) -> anyhow::Result<()> {
    std::fs::write(out, xlsx_bytes(table)?).with_context(|| format!("writing {}", out.display()))
}

/// The table as an XLSX workbook of one sheet: bold frozen header, text cells as strings (never
/// formulas), moments and dates as real dates.
pub fn xlsx_bytes(table: &Table) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(&table.sheet)?;
    let bold = XlsxFormat::new().set_bold();
    let time = XlsxFormat::new().set_num_format("yyyy-mm-dd hh:mm");
    let date = XlsxFormat::new().set_num_format("yyyy-mm-dd");
    for (col, h) in table.headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, h, &bold)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (col, cell) in row.iter().enumerate() {
            let col = col as u16;
            match (cell, excel_time(cell)?) {
                (Cell::Time(_), Some(t)) => sheet.write_datetime_with_format(r, col, t, &time)?,
                (Cell::Date(_), Some(d)) => sheet.write_datetime_with_format(r, col, d, &date)?,
                (Cell::Number(n), _) => sheet.write_number(r, col, *n as f64)?,
                _ => sheet.write_string(r, col, cell.text())?,
            };
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofit();
    book.save_to_buffer().context("building the XLSX workbook")
}
