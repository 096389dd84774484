//! `flowbot form`: the printed 登记表 with every answer, both approvals (names and Shanghai
//! dates), two labelled copies on separate pages, escaped values; by case or register number,
//! while the bot holds the store; the checks of `[export]` and `[form]`.

use super::*;

fn count(page: &str, needle: &str) -> usize {
    page.matches(needle).count()
}

fn check_form(page: &str) {
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("@media print") && page.contains("size: A4"));
    assert!(
        page.contains("page-break-after: always"),
        "one copy per sheet of paper"
    );
    assert_eq!(count(page, "<section class=\"copy\">"), 2, "two copies");
    assert_eq!(count(page, "一份交主办单位留存"), 1);
    assert_eq!(count(page, "一份交党委宣传部备案"), 1);
    assert_eq!(count(page, "<h1>公司新媒体建设备案登记表</h1>"), 2);
    for copy in page.split("<section class=\"copy\">").skip(1) {
        for needle in [
            "BA-2026-0001",
            "DJ-2026-0001",
            "创建单位",
            "团委",
            "2026-11-28",
            "☑ 其他（抖音）",
            "☐ 官方微博",
            "账号名称",
            "青春&quot;团委&quot;, 官方",
            "gh_1234567890ab",
            "https://weibo.example/u/1?a=1&amp;b=2",
            "是否认证",
            "单位介绍信",
            "管理队伍",
            "王强",
            "010-12345678",
            "13800138000",
            "管理员信息",
            "张三",
            "010-12345678-123",
            "zhangsan@example.com",
            "主办单位意见",
            "公司宣传部意见",
            "负责人签字",
            "（加盖单位公章）",
            "同意",
            "李宣",
            "2026 年 11 月 28 日",
            "2026 年 11 月 30 日",
            "此表一式两份",
            "提交时间：2026-11-28 01:30",
        ] {
            assert!(copy.contains(needle), "each copy shows {needle:?}");
        }
        for field in scripts().flows["registration"].fields.iter() {
            assert!(
                copy.contains(&format!("<th>{}</th>", field.label)),
                "{}",
                field.label
            );
        }
    }
    assert!(
        !page.contains("<script>"),
        "an answer never renders as HTML"
    );
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;宣传团委工作动态"));
}

#[tokio::test]
async fn the_form_through_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    seed::write(&store, &seed::cases()).await;
    let out = dir.path().join("form.html");
    files::form(store.as_ref(), &scripts(), "BA-2026-0001", &out)
        .await
        .unwrap();
    check_form(&std::fs::read_to_string(&out).unwrap());

    // A case still waiting: the propaganda box is empty, with the date left to fill by hand.
    files::form(store.as_ref(), &scripts(), "BA-2026-0002", &out)
        .await
        .unwrap();
    let page = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        count(&page, "（尚未审批）"),
        2,
        "one undecided box per copy"
    );
    assert!(page.contains("　　　 年 　　 月 　　 日"), "a blank date");
    assert!(page.contains("☑ 官方微信"));

    // A rejection shows why.
    files::form(store.as_ref(), &scripts(), "BA-2026-0003", &out)
        .await
        .unwrap();
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(page.contains("驳回：名称不规范"));

    let missing = files::form(store.as_ref(), &scripts(), "BA-2099-9999", &out).await;
    assert!(missing.unwrap_err().to_string().contains("BA-2099-9999"));
}

#[test]
fn the_binary_writes_the_form() {
    let dir = tempfile::tempdir().unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(seed::seeded(dir.path()));
    let out = dir.path().join("登记表.html");
    let run = flowbot(
        dir.path(),
        &["form", "BA-2026-0001", "--out", out.to_str().unwrap()],
    );
    assert!(run.status.success(), "{run:?}");
    check_form(&std::fs::read_to_string(&out).unwrap());
}

#[test]
fn export_and_form_read_the_store_while_the_bot_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(seed::seeded(dir.path()));
    // The running bot's store: its writer lock stays taken while the commands read.
    let held = EmbeddedStore::open(dir.path()).unwrap();
    let csv = dir.path().join("r.csv");
    let run = flowbot(
        dir.path(),
        &[
            "export",
            "--what",
            "register",
            "--format",
            "csv",
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    assert!(run.status.success(), "{run:?}");
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .contains("DJ-2026-0001")
    );
    for number in ["BA-2026-0001", "DJ-2026-0001"] {
        let out = dir.path().join(format!("{number}.html"));
        let run = flowbot(
            dir.path(),
            &["form", number, "--out", out.to_str().unwrap()],
        );
        assert!(run.status.success(), "{number}: {run:?}");
        check_form(&std::fs::read_to_string(&out).unwrap());
    }
    let unknown = dir.path().join("none.html");
    let run = flowbot(
        dir.path(),
        &["form", "DJ-2026-0099", "--out", unknown.to_str().unwrap()],
    );
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("no account registered as DJ-2026-0099"));
    assert!(!unknown.exists(), "nothing written");
    // The store was never disturbed: the bot keeps writing.
    assert!(
        EmbeddedStore::open(dir.path()).is_err(),
        "still the only writer"
    );
    drop(held);
}

/// A copy of the shipped scripts with one edit to `file`.
fn scripts_with(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = scripts_dir();
    for sub in ["flows", "calendar"] {
        std::fs::create_dir(tmp.path().join(sub)).unwrap();
        for entry in std::fs::read_dir(src.join(sub)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), tmp.path().join(sub).join(entry.file_name())).unwrap();
        }
    }
    for name in ["bot.toml", "directory.toml"] {
        std::fs::copy(src.join(name), tmp.path().join(name)).unwrap();
    }
    let path = tmp.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} in {file}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    tmp
}

fn errors(dir: &Path) -> Vec<String> {
    let found = flowbot::base::scripts::check(dir).expect_err("refused");
    found.iter().map(|d| d.to_string()).collect()
}

#[test]
fn check_refuses_bad_export_and_form_settings() {
    let dir = scripts_with(
        "bot.toml",
        "\"platform\", \"account_name\"",
        "\"platform\", \"nickname\"",
    );
    let found = errors(dir.path());
    assert!(
        found
            .iter()
            .any(|e| e.contains("bot.toml:") && e.contains("register field `nickname`")),
        "{found:?}"
    );

    let dir = scripts_with(
        "flows/registration.toml",
        "fields = [\"link\"]",
        "fields = [\"link\", \"unit\"]",
    );
    let found = errors(dir.path());
    assert!(
        found
            .iter()
            .any(|e| e.contains("registration.toml:") && e.contains("`unit` is placed twice")),
        "{found:?}"
    );

    let dir = scripts_with(
        "flows/registration.toml",
        "fields = [\"scope\"]",
        "fields = [\"scpoe\"]",
    );
    let found = errors(dir.path());
    assert!(
        found.iter().any(|e| e.contains("`scpoe` is not a field")),
        "{found:?}"
    );

    let dir = scripts_with("flows/registration.toml", ", \"公司宣传部意见\"]", "]");
    let found = errors(dir.path());
    assert!(
        found
            .iter()
            .any(|e| e.contains("1 headings for 2 approval steps")),
        "{found:?}"
    );

    let dir = scripts_with(
        "bot.toml",
        "approver = \"{{ step }}人\"",
        "approver = \"{{ step \"",
    );
    let found = errors(dir.path());
    assert!(
        found
            .iter()
            .any(|e| e.contains("template does not compile")),
        "{found:?}"
    );
}
