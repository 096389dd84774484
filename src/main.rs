//! The `flowbot` command: `serve` (default), `check`, `bench` (load generator), `dead-letters`,
//! `set-aside`,
//! `workdays` (working-day deadlines on the holiday calendar), `export` (the register or every
//! case as CSV/XLSX) and `form` (the printable 登记表 of a case).

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use flowbot::runtime::app::{self, Application};
use flowbot::runtime::config::Settings;
use flowbot::runtime::exports;
use flowbot::runtime::loadgen::{self, LoadConfig};

/// mimalloc instead of the system allocator: glibc's malloc and free were about a seventh of the
/// bot's CPU time under load (`perf`; README "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "flowbot",
    version,
    about = "A WeCom bot that runs the new-media policy in chat"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot (the default).
    Serve,
    /// Send signed, encrypted callbacks to a running bot and report throughput and latency.
    /// Uses WECOM_CORP_ID, WECOM_TOKEN and WECOM_AES_KEY to sign like WeCom.
    Bench(loadgen::BenchArgs),
    /// Validate a bot-scripts folder: every error as `file:line: message`, non-zero exit on any.
    Check {
        /// The folder (default: FLOWBOT_SCRIPTS, else `bot-scripts`).
        dir: Option<std::path::PathBuf>,
        /// Check as on this date (YYYY-MM-DD) instead of today in the company's time zone.
        #[arg(long)]
        today: Option<NaiveDate>,
    },
    /// Working-day deadlines on the calendar in `<FLOWBOT_SCRIPTS>/calendar`.
    #[command(subcommand)]
    Workdays(Workdays),
    /// Print the outbox items that could not be delivered (newest first), one JSON per line;
    /// with `--resend`, queue them again (all, or the ids given). Works while the bot runs.
    DeadLetters {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Queue the dead letters again as new deliveries: those with these ids, or all.
        #[arg(long, num_args = 0.., value_name = "ID")]
        resend: Option<Vec<u64>>,
    },
    /// Print the events set aside after failing on their own (oldest first), one JSON per line;
    /// with `--rerun`, queue them again (all, or the ids given) at the end of their
    /// conversations. Works while the bot runs, on either store.
    SetAside {
        #[arg(long)]
        rerun: bool,
        /// Event ids to re-run (default: all).
        ids: Vec<u64>,
    },
    /// Export the account register or every case for the propaganda department (Chinese
    /// headers, times in the company's time zone). Works while the bot runs, on either store.
    Export {
        #[arg(long, value_enum)]
        what: ExportWhat,
        /// The campaign year of `--what annual-review`.
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(long)]
        out: PathBuf,
    },
    /// Reports for the propaganda department, e.g. `report assessment --year 2026 --format xlsx
    /// --out F` (one row per unit; bot.toml `[assessment]`). Works while the bot runs.
    #[command(subcommand)]
    Report(Report),
    /// Write the filled 登记表 of a case as a printable HTML page (two copies, A4); a register
    /// number prints the account's current entry. Works while the bot runs.
    Form {
        /// The case number (备案编号), e.g. BA-2026-0001, or a register number (登记编号),
        /// e.g. DJ-2026-0001.
        number: String,
        #[arg(long)]
        out: PathBuf,
    },
}

impl From<ExportFormat> for exports::FileFormat {
    fn from(format: ExportFormat) -> Self {
        match format {
            ExportFormat::Csv => exports::FileFormat::Csv,
            ExportFormat::Xlsx => exports::FileFormat::Xlsx,
        }
    }
}

#[derive(Subcommand)]
enum Report {
    /// The yearly assessment of units (policy 4.1): accounts, filings, change reports on time
    /// and late, closures ordered, the annual review results, incidents and their median
    /// times, repost coverage (each when configured), and whether each unit may be rated
    /// advanced.
    Assessment {
        #[arg(long)]
        year: i32,
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportWhat {
    /// One row per registered account.
    Register,
    /// One row per case.
    Cases,
    /// One row per account of a year's annual review campaign (needs `--year`).
    AnnualReview,
    /// One row per account of each repost task (转发任务).
    Reposts,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    /// UTF-8 with a BOM (opens in Excel), RFC 4180 quoting.
    Csv,
    Xlsx,
}

#[derive(Subcommand)]
enum Workdays {
    /// Print the N-th working day after DATE (DATE not counted), e.g. `add 2026-09-30 5`.
    #[command(allow_negative_numbers = true)]
    Add { date: NaiveDate, n: i32 },
    /// Show each counted working day and each skipped holiday or weekend.
    #[command(allow_negative_numbers = true)]
    Explain { date: NaiveDate, n: i32 },
}

fn workdays(settings: &Settings, command: Workdays) -> anyhow::Result<()> {
    let dir = settings.scripts_dir.join("calendar");
    let calendar = match flowbot::base::calendar::load(&dir) {
        Ok(calendar) => calendar,
        Err(diagnostics) => {
            for d in &diagnostics {
                eprintln!("{d}");
            }
            std::process::exit(1);
        }
    };
    match command {
        Workdays::Add { date, n } => println!("{}", calendar.add_working_days(date, n)),
        Workdays::Explain { date, n } => println!("{}", calendar.explain(date, n)),
    }
    Ok(())
}

/// The store and the compiled scripts, for the commands that read the records.
async fn open_records(
    settings: &Settings,
) -> anyhow::Result<(
    std::sync::Arc<dyn flowbot::adapters::store::Store>,
    flowbot::base::scripts::Scripts,
)> {
    let scripts = flowbot::base::scripts::Scripts::load(&settings.scripts_dir)
        .with_context(|| format!("loading {}", settings.scripts_dir.display()))?;
    let clock = flowbot::base::clock::Clock::new(scripts.time_zone);
    let store = app::open_records_store(settings, &clock).await?;
    Ok((store, scripts))
}

/// What `flowbot check` warns about the store the bot would open (`REDIS_URL`, else the
/// embedded data dir if it exists): stored cases and duties the scripts in `dir` no longer
/// define. A store that cannot be opened is a warning too: the scripts themselves are valid.
async fn stored_refs_warnings(settings: &Settings, dir: &std::path::Path) -> Vec<String> {
    if settings.redis_url.is_none() && !settings.data_dir.is_dir() {
        return Vec::new();
    }
    let scripts = match flowbot::base::scripts::Scripts::load(dir) {
        Ok(scripts) => scripts,
        Err(e) => return vec![format!("stored cases not checked: {e}")],
    };
    let clock = flowbot::base::clock::Clock::new(scripts.time_zone);
    let store = match app::open_store(settings, &clock).await {
        Ok(store) => store,
        Err(e) => return vec![format!("stored cases not checked: {e:#}")],
    };
    flowbot::runtime::stored_refs::warnings(store.as_ref(), &scripts)
        .await
        .unwrap_or_else(|e| vec![format!("stored cases not checked: {e}")])
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("FLOWBOT_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    let settings = Settings::load()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Workdays(command) => workdays(&settings, command),
        Command::Check { dir, today } => {
            let dir = dir.unwrap_or_else(|| settings.scripts_dir.clone());
            let checked = match today {
                Some(today) => flowbot::base::scripts::check_on(&dir, today),
                None => flowbot::base::scripts::check(&dir),
            };
            match checked {
                Ok(report) => {
                    for warning in stored_refs_warnings(&settings, &dir).await {
                        println!("warning: {warning}");
                    }
                    println!("{report}");
                    Ok(())
                }
                Err(diagnostics) => {
                    for d in &diagnostics {
                        eprintln!("{d}");
                    }
                    eprintln!("{}: {} error(s)", dir.display(), diagnostics.len());
                    std::process::exit(1);
                }
            }
        }
        Command::Serve => {
            let app = Application::build(settings).await?;
            app.run_until_stopped(app::shutdown_signal()).await
        }
        Command::Bench(args) => {
            let store = match args.watch_store {
                Some(_) => {
                    let clock = flowbot::base::clock::Clock::default();
                    Some(app::open_operator_store(&settings, &clock).await?)
                }
                None => None,
            };
            let config = LoadConfig::from_args(args, &settings)?;
            let report = loadgen::run(config, store).await?;
            println!("{report}");
            Ok(())
        }
        Command::Export {
            what,
            year,
            format,
            out,
        } => {
            let (store, scripts) = open_records(&settings).await?;
            let what = match what {
                ExportWhat::Register => exports::What::Register,
                ExportWhat::Cases => exports::What::Cases,
                ExportWhat::AnnualReview => exports::What::AnnualReview,
                ExportWhat::Reposts => exports::What::Reposts,
            };
            let export = exports::Export {
                what,
                units: None,
                year,
                task: None,
            };
            let rows =
                exports::export_of(store.as_ref(), &scripts, &export, format.into(), &out).await?;
            println!("{}: {rows} rows", out.display());
            Ok(())
        }
        Command::Report(Report::Assessment { year, format, out }) => {
            let (store, scripts) = open_records(&settings).await?;
            let what = exports::What::Assessment { year };
            let rows = exports::export(store.as_ref(), &scripts, what, format.into(), &out).await?;
            println!("{}: {rows} rows", out.display());
            Ok(())
        }
        Command::Form { number, out } => {
            let (store, scripts) = open_records(&settings).await?;
            exports::form(store.as_ref(), &scripts, &number, &out).await?;
            println!("{}", out.display());
            Ok(())
        }
        Command::SetAside { rerun, ids } => {
            let clock = flowbot::base::clock::Clock::default();
            let store = app::open_operator_store(&settings, &clock).await?;
            for event in store.set_aside_events().await? {
                if !ids.is_empty() && !ids.contains(&event.event_id) {
                    continue;
                }
                let mut line = serde_json::json!({
                    "event_id": event.event_id,
                    "conversation": event.conversation,
                    "attempts": event.attempts,
                    "reason": event.reason,
                    "at_ms": event.at_ms,
                });
                if rerun {
                    let queued = store
                        .rerun_set_aside(event.event_id, clock.now_ms())
                        .await?;
                    line["rerun_as"] = serde_json::json!(queued);
                }
                println!("{line}");
            }
            Ok(())
        }
        Command::DeadLetters { limit, resend } => {
            let clock = flowbot::base::clock::Clock::default();
            let store = app::open_operator_store(&settings, &clock).await?;
            if let Some(ids) = resend {
                let queued = store.resend_dead_letters(&ids, clock.now_ms()).await?;
                let missing: Vec<&u64> = ids.iter().filter(|id| !queued.contains(id)).collect();
                println!("queued again: {queued:?}");
                if !missing.is_empty() {
                    eprintln!("not among the dead letters: {missing:?}");
                    std::process::exit(1);
                }
                return Ok(());
            }
            for dead in store.dead_letters(limit).await? {
                let line = serde_json::json!({
                    "id": dead.id,
                    "channel": dead.channel,
                    "failures": dead.failures,
                    "last_error": dead.last_error,
                    "failed_at_ms": dead.failed_at_ms,
                    "payload": redacted_payload(&dead.payload),
                });
                println!("{line}");
            }
            Ok(())
        }
    }
}

/// A dead letter's payload for an operator's eyes. Robot messages name their group, but dead
/// letters queued before keys were looked up at delivery may still hold a webhook key: hidden.
fn redacted_payload(payload: &str) -> serde_json::Value {
    let mut value: serde_json::Value = serde_json::from_str(payload)
        .unwrap_or_else(|_| serde_json::Value::String(payload.to_owned()));
    if let Some(key) = value.get_mut("webhook_key") {
        *key = serde_json::Value::String("<redacted>".into());
    }
    value
}
