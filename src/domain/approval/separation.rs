//! Separation of duties (policy 2.1): nobody decides a step of a case they filed or are the
//! subject of. [`recused`] names those people for a case; [`assign`] leaves them out of a
//! step's resolved approvers and, when nobody is left, gives the step to the fallback role.

use crate::base::scripts::FlowDef;
use crate::domain::engine::Answer;
use crate::domain::records::Case;

/// Who may not decide any step of `case`: its applicant and the people its flow's `subjects`
/// fields name (e.g. a registered account's administrator).
pub fn recused(flow: &FlowDef, case: &Case) -> Vec<String> {
    let mut people = vec![case.applicant.clone()];
    for field in &flow.subjects {
        if let Some(Answer::Member { userid, .. }) = case.answers.get(field)
            && !people.iter().any(|p| p.eq_ignore_ascii_case(userid))
        {
            people.push(userid.clone());
        }
    }
    people
}

/// Whether `actor` is one of the `recused` (userids compare case-insensitively, as WeCom does).
pub fn is_recused(recused: &[String], actor: &str) -> bool {
    recused.iter().any(|p| p.eq_ignore_ascii_case(actor))
}

/// A step's approvers: the `resolved` holders of its role without the `recused`; when that
/// leaves nobody, the holders of the fallback role (again without the recused). Empty only
/// when the fallback has nobody else either.
pub fn assign(resolved: Vec<String>, fallback: &[String], recused: &[String]) -> Vec<String> {
    let keep = |people: &[String]| -> Vec<String> {
        let mut kept: Vec<String> = Vec::new();
        for p in people {
            if !is_recused(recused, p) && !kept.contains(p) {
                kept.push(p.clone());
            }
        }
        kept
    };
    let kept = keep(&resolved);
    if kept.is_empty() {
        keep(fallback)
    } else {
        kept
    }
}

/// Whether the step needs the fallback role: every resolved approver is recused.
pub fn needs_fallback(resolved: &[String], recused: &[String]) -> bool {
    resolved.iter().all(|p| is_recused(recused, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_recused_are_left_out_of_a_step_that_has_others() {
        let step = assign(
            people(&["chenjing", "lina"]),
            &people(&["chenjing"]),
            &people(&["lina"]),
        );
        assert_eq!(step, people(&["chenjing"]));
    }

    #[test]
    fn a_step_with_only_the_recused_goes_to_the_fallback() {
        let recused = people(&["liuyang"]);
        assert!(needs_fallback(&people(&["liuyang"]), &recused));
        let step = assign(people(&["liuyang"]), &people(&["chenjing"]), &recused);
        assert_eq!(step, people(&["chenjing"]));
        // An empty role needs the fallback as well.
        assert!(needs_fallback(&[], &recused));
    }

    #[test]
    fn the_fallback_never_brings_the_recused_back() {
        let step = assign(
            people(&["chenjing"]),
            &people(&["chenjing"]),
            &people(&["CHENJING"]),
        );
        assert!(step.is_empty());
    }

    #[test]
    fn the_applicant_and_the_subjects_are_recused() {
        let scripts = crate::base::scripts::Scripts::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts"),
        )
        .expect("the shipped scripts load");
        let flow = scripts.flows.get("registration").expect("shipped");
        assert_eq!(flow.subjects, ["admin"]);
        let mut case: Case = serde_json::from_value(serde_json::json!({
            "number": "BA-2026-0001", "flow": "registration", "scripts_version": "v",
            "applicant": "zhangsan", "applicant_name": "张三", "unit": "tw", "unit_name": "团委",
            "answers": [], "summary": "", "status": "pending", "submitted_at_ms": 0
        }))
        .expect("a case");
        assert_eq!(recused(flow, &case), people(&["zhangsan"]));
        let member = |id: &str| Answer::Member {
            userid: id.into(),
            name: String::new(),
        };
        case.answers.set("admin", member("liuyang"));
        case.answers.set("leader", member("wangqiang"));
        assert_eq!(recused(flow, &case), people(&["zhangsan", "liuyang"]));
        case.answers.set("admin", member("zhangsan"));
        assert_eq!(recused(flow, &case), people(&["zhangsan"]));
    }
}
