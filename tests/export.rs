//! `flowbot export` and `flowbot form`, read back: cases are written into an embedded store in a
//! temp dir (`export/seed.rs`), exported through the library and through the binary (the server
//! in another time zone than the company), and the files are read with the `csv` crate, with
//! `calamine` (as a spreadsheet program would) and as HTML text.

#[path = "export/seed.rs"]
mod seed;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx, open_workbook};
use flowbot::adapters::store::Store;
use flowbot::adapters::store::embedded::EmbeddedStore;
use flowbot::base::scripts::Scripts;
use flowbot::domain::records::export::Cell;
use flowbot::runtime::exports::{self as files, FileFormat, What};

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts")
}

fn scripts() -> Scripts {
    Scripts::load(&scripts_dir()).expect("the shipped scripts load")
}

/// Runs the binary against the store in `data`, in a server zone far from Shanghai.
fn flowbot(data: &Path, args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowbot"));
    cmd.args(args)
        .current_dir(cwd.path())
        .env("FLOWBOT_SCRIPTS", scripts_dir())
        .env("FLOWBOT_DATA", data)
        .env("TZ", "America/Los_Angeles")
        .env("RUST_LOG", "warn");
    for key in ["FLOWBOT_CONFIG", "FLOWBOT_DIRECTORY", "REDIS_URL"] {
        cmd.env_remove(key);
    }
    for key in ["CORP_ID", "AGENT_ID", "SECRET", "TOKEN", "AES_KEY"] {
        cmd.env_remove(format!("WECOM_{key}"));
    }
    cmd.output().expect("run flowbot")
}

/// A CSV export: (headers, rows); the file must start with the UTF-8 BOM.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(path).expect("read csv");
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM first");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader
        .headers()
        .expect("headers")
        .iter()
        .map(String::from)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("a record").iter().map(String::from).collect())
        .collect();
    (headers, rows)
}

/// An XLSX export: (sheet name, headers, rows), dates shown as `YYYY-MM-DD[ HH:MM]`.
fn read_xlsx(path: &Path) -> (String, Vec<String>, Vec<Vec<String>>) {
    let mut book: Xlsx<_> = open_workbook(path).expect("open xlsx");
    let names = book.sheet_names();
    assert_eq!(names.len(), 1, "one sheet");
    let range = book.worksheet_range(&names[0]).expect("the sheet");
    let mut rows = range.rows().map(|row| {
        row.iter()
            .map(|cell| match cell {
                Data::DateTime(t) => {
                    let (y, mo, d, h, mi, _, _) = t.to_ymd_hms_milli();
                    // A whole day number is a date; none of the seeded moments is at midnight.
                    match t.as_f64().fract() == 0.0 {
                        true => format!("{y:04}-{mo:02}-{d:02}"),
                        false => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}"),
                    }
                }
                Data::String(s) => s.clone(),
                Data::Empty => String::new(),
                other => panic!("unexpected cell {other:?}"),
            })
            .collect::<Vec<String>>()
    });
    let headers = rows.next().expect("a header row");
    (names[0].clone(), headers, rows.collect())
}

fn column<'a>(headers: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = headers.iter().position(|h| h == name);
    &row[i.unwrap_or_else(|| panic!("no column {name} in {headers:?}"))]
}

const REGISTER_HEADERS: &[&str] = &[
    "登记编号",
    "备案编号",
    "单位",
    "状态",
    "新媒体平台",
    "账号名称",
    "账号ID",
    "媒体链接地址或服务号",
    "是否认证",
    "主管领导",
    "主管领导办公电话",
    "主管领导手机号码",
    "管理员姓名",
    "管理员办公电话",
    "管理员手机号码",
    "管理员电子邮箱",
    "申请人",
    "提交时间",
    "单位主要负责人审批人",
    "单位主要负责人审批日期",
    "党委宣传部审核人",
    "党委宣传部审核日期",
    "登记时间",
];

fn check_register(headers: &[String], rows: &[Vec<String>]) {
    assert_eq!(headers, REGISTER_HEADERS);
    assert_eq!(rows.len(), 2, "one row per registered account: {rows:?}");
    let (first, second) = (&rows[0], &rows[1]);
    let col = |row, name| column(headers, row, name);
    assert_eq!(col(first, "登记编号"), "DJ-2026-0001");
    assert_eq!(col(second, "登记编号"), "DJ-2026-0002");
    assert_eq!(col(first, "备案编号"), "BA-2026-0001");
    assert_eq!(col(first, "单位"), "团委");
    assert_eq!(col(first, "状态"), "在用");
    assert_eq!(col(first, "新媒体平台"), "其他（抖音）");
    assert_eq!(col(second, "新媒体平台"), "官方微信");
    assert_eq!(
        col(first, "账号名称"),
        seed::TRICKY_NAME,
        "quote, comma, line break kept"
    );
    assert_eq!(col(first, "是否认证"), "是");
    assert_eq!(col(first, "主管领导"), "王强");
    assert_eq!(col(first, "主管领导办公电话"), "010-12345678");
    assert_eq!(col(first, "管理员办公电话"), "010-12345678-123");
    assert_eq!(col(first, "管理员手机号码"), "13900139000");
    assert_eq!(col(first, "管理员电子邮箱"), "zhangsan@example.com");
    assert_eq!(col(first, "申请人"), "张三");
    // Shanghai times, although the moments are on the previous day in UTC.
    assert_eq!(col(first, "提交时间"), "2026-11-28 01:30");
    assert_eq!(col(first, "单位主要负责人审批人"), "王强");
    assert_eq!(col(first, "单位主要负责人审批日期"), "2026-11-28");
    assert_eq!(col(first, "党委宣传部审核人"), "李宣");
    assert_eq!(col(first, "党委宣传部审核日期"), "2026-11-30");
    assert_eq!(col(first, "登记时间"), "2026-11-30 00:10");
    assert_eq!(col(second, "登记时间"), "2026-11-30 00:11");
}

fn check_cases(headers: &[String], rows: &[Vec<String>], formula_escaped: bool) {
    let fixed = [
        "备案编号",
        "流程",
        "单位",
        "申请人",
        "状态",
        "当前环节",
        "提交时间",
        "最后决定时间",
    ];
    assert_eq!(headers[..fixed.len()], fixed);
    // Every field of every flow, labelled, each label once, flow by flow.
    let mut labels: Vec<String> = Vec::new();
    for flow in scripts().flows.values() {
        for f in &flow.fields {
            if !labels.contains(&f.label) {
                labels.push(f.label.clone());
            }
        }
    }
    assert_eq!(headers[fixed.len()..], labels[..], "every field, labelled");
    assert_eq!(rows.len(), 4, "one row per case");
    let col = |i: usize, name| column(headers, &rows[i], name);
    let numbers: Vec<&str> = (0..4).map(|i| col(i, "备案编号")).collect();
    assert_eq!(
        numbers,
        [
            "BA-2026-0001",
            "BA-2026-0002",
            "BA-2026-0003",
            "BA-2026-0004"
        ]
    );
    assert_eq!(col(0, "流程"), "新媒体建设备案登记表");
    assert_eq!(col(0, "状态"), "已审批通过");
    assert_eq!(col(1, "状态"), "审批中（党委宣传部审核）");
    assert_eq!(col(1, "当前环节"), "党委宣传部审核");
    assert_eq!(
        col(0, "当前环节"),
        "",
        "only pending cases have a current step"
    );
    assert_eq!(col(2, "状态"), "已被驳回");
    assert_eq!(col(0, "提交时间"), "2026-11-28 01:30");
    assert_eq!(col(0, "最后决定时间"), "2026-11-30 00:10");
    assert_eq!(
        col(1, "最后决定时间"),
        "2026-11-28 10:00",
        "the leader's approval"
    );
    assert_eq!(col(2, "最后决定时间"), "2026-11-28 10:00");
    assert_eq!(col(0, "创建单位"), "团委");
    assert_eq!(col(0, "创建时间"), "2026-11-28");
    assert_eq!(
        col(0, "内容范围"),
        seed::INJECTION,
        "a spreadsheet shows text as typed"
    );
    assert_eq!(col(0, "认证需要文件"), "单位介绍信");
    let formula = col(1, "账号名称");
    match formula_escaped {
        true => assert_eq!(
            formula,
            format!("'{}", seed::FORMULA),
            "CSV: never a formula"
        ),
        false => assert_eq!(
            formula,
            seed::FORMULA,
            "XLSX: a string cell, never a formula"
        ),
    }
}

#[tokio::test]
async fn register_and_cases_through_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    seed::write(&store, &seed::cases()).await;
    let scripts = scripts();
    let combos = [
        (What::Register, FileFormat::Csv, "r.csv", 2),
        (What::Register, FileFormat::Xlsx, "r.xlsx", 2),
        (What::Cases, FileFormat::Csv, "c.csv", 4),
        (What::Cases, FileFormat::Xlsx, "c.xlsx", 4),
    ];
    for (what, format, name, rows) in combos {
        let out = dir.path().join(name);
        let written = files::export(store.as_ref(), &scripts, what, format, &out).await;
        assert_eq!(written.unwrap(), rows, "{name}");
        let (headers, rows) = match format {
            FileFormat::Csv => read_csv(&out),
            FileFormat::Xlsx => {
                let (sheet, headers, rows) = read_xlsx(&out);
                let expected = if what == What::Register {
                    "新媒体账号登记册"
                } else {
                    "备案事项"
                };
                assert_eq!(sheet, expected);
                (headers, rows)
            }
        };
        match what {
            What::Register => check_register(&headers, &rows),
            What::Cases => check_cases(&headers, &rows, format == FileFormat::Csv),
            What::AnnualReview => unreachable!("not exported here"),
            What::Reposts => unreachable!("repost tasks are exported in tests/reposts_e2e.rs"),
            What::Assessment { .. } => unreachable!("tested in assessment_e2e.rs"),
        }
    }
}

#[tokio::test]
async fn xlsx_moments_are_real_dates() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    seed::write(&store, &seed::cases()).await;
    let table = files::table(store.as_ref(), &scripts(), What::Register)
        .await
        .unwrap();
    let at = |name: &str| table.headers.iter().position(|h| h == name).unwrap();
    assert!(matches!(table.rows[0][at("提交时间")], Cell::Time(_)));
    assert!(matches!(
        table.rows[0][at("党委宣传部审核日期")],
        Cell::Date(_)
    ));
    let path = dir.path().join("r.xlsx");
    files::write_xlsx(&table, &path).unwrap();
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let range = book.worksheet_range("新媒体账号登记册").unwrap();
    let cell = range.get((1, at("提交时间"))).unwrap();
    let Data::DateTime(t) = cell else {
        panic!("a date cell, not {cell:?}")
    };
    assert_eq!(t.to_ymd_hms_milli(), (2026, 11, 28, 1, 30, 0, 0));
}

#[test]
fn the_binary_exports_in_the_company_zone() {
    let dir = tempfile::tempdir().unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(seed::seeded(dir.path()));
    for (what, format) in [
        ("register", "csv"),
        ("register", "xlsx"),
        ("cases", "csv"),
        ("cases", "xlsx"),
    ] {
        let out = dir.path().join(format!("{what}.{format}"));
        let run = flowbot(
            dir.path(),
            &[
                "export",
                "--what",
                what,
                "--format",
                format,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(run.status.success(), "{run:?}");
        let stdout = String::from_utf8_lossy(&run.stdout);
        let rows = if what == "register" { 2 } else { 4 };
        assert!(stdout.contains(&format!("{rows} rows")), "{stdout}");
        let (headers, rows) = match format {
            "csv" => read_csv(&out),
            _ => {
                let (_, headers, rows) = read_xlsx(&out);
                (headers, rows)
            }
        };
        match what {
            "register" => check_register(&headers, &rows),
            _ => check_cases(&headers, &rows, format == "csv"),
        }
    }
}

#[path = "export/form.rs"]
mod form;
