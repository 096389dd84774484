//! The work circle (新媒体矩阵工作圈, policy 3.3.5), when bot.toml has `[work_circle]`: an app
//! group chat of the administrators of every account in use, with the department's owner. The
//! processes that change a register entry (registration, change report, deregistration) call
//! [`Services::register_changed`], which schedules one `CircleSync` timer; when it fires, the
//! circle is brought in line with the register here (`appchat/create` the first time, then
//! `appchat/update`), one sync at a time on its own conversation. A member who leaves the
//! company (WeCom's contact change) is taken out at once, even while an account still names them.

use async_trait::async_trait;

use crate::adapters::store::CaseWrite;
use crate::adapters::wecom::message::ContactChange;
use crate::dispatch::event::TimerJob;
use crate::dispatch::{DispatchError, Draft, Process, Services};
use crate::domain::engine::Answer;
use crate::domain::records::{self, AccountStatus};
use crate::domain::reply::Reply;
use crate::domain::reposts::circle::{self, Circle, CircleChange};

/// The work circle process.
pub struct WorkCircle;

#[async_trait]
impl Process for WorkCircle {
    fn name(&self) -> &'static str {
        "work_circle"
    }

    fn owns_timer(&self, job: &TimerJob) -> bool {
        matches!(job, TimerJob::CircleSync)
    }

    fn watches_contacts(&self) -> bool {
        true
    }

    async fn on_timer(
        &self,
        s: &Services,
        d: &mut Draft,
        _job: &TimerJob,
        _due_ms: i64,
        _now_ms: i64,
    ) -> Result<(), DispatchError> {
        sync(s, d).await
    }

    /// Who leaves the company leaves the circle; who joins again may come back.
    async fn on_contact(
        &self,
        s: &Services,
        d: &mut Draft,
        change: &ContactChange,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        if s.scripts.work_circle.is_none() {
            return Ok(());
        }
        let (mut kept, version) = load(s).await?;
        match change {
            ContactChange::DeleteUser { user_id } if !kept.departed.contains(user_id) => {
                kept.departed.push(user_id.clone());
            }
            ContactChange::CreateUser(fields) if kept.departed.contains(&fields.user_id) => {
                kept.departed.retain(|u| *u != fields.user_id);
            }
            _ => return Ok(()),
        }
        d.write_case(write(&kept, version));
        s.register_changed(d, now_ms);
        Ok(())
    }
}

/// The circle as kept, with its version (0: never written).
async fn load(s: &Services) -> Result<(Circle, u64), DispatchError> {
    Ok(s.load_body(circle::RECORD).await?.unwrap_or_default())
}

fn write(kept: &Circle, version: u64) -> CaseWrite {
    CaseWrite {
        number: circle::RECORD.to_owned(),
        expected_version: Some(version),
        body: Some(serde_json::to_string(kept).expect("the circle serializes")),
        ..CaseWrite::default()
    }
}

/// The administrators of the accounts in use, in register order.
async fn administrators(s: &Services) -> Result<Vec<String>, DispatchError> {
    let mut admins = Vec::new();
    for number in s.store.cases_in(records::REGISTER).await? {
        let Some(entry) = s.load_case(&number).await? else {
            continue;
        };
        if entry.case.account_status == AccountStatus::Closed {
            continue;
        }
        if let Some(Answer::Member { userid, .. }) = entry.case.answers.get("admin") {
            admins.push(userid.clone());
        }
    }
    Ok(admins)
}

/// Brings the circle in line with the register.
async fn sync(s: &Services, d: &mut Draft) -> Result<(), DispatchError> {
    let Some(def) = s.scripts.work_circle.clone() else {
        return Ok(());
    };
    let (kept, version) = load(s).await?;
    let wanted = circle::wanted(&kept, &def.owner, &administrators(s).await?);
    let Some(change) = circle::change(&kept, &wanted) else {
        return Ok(());
    };
    match change {
        CircleChange::Create(members) => {
            tracing::info!(chat = %def.chat_id, members = members.len(), "work circle created");
            d.send(Reply::CreateChat {
                chat_id: def.chat_id.clone(),
                name: def.name.clone(),
                owner: def.owner.clone(),
                members,
            });
        }
        CircleChange::Update { add, remove } => {
            tracing::info!(chat = %def.chat_id, added = add.len(), removed = remove.len(), "work circle updated");
            d.send(Reply::UpdateChat {
                chat_id: def.chat_id.clone(),
                add,
                remove,
            });
        }
    }
    d.write_case(write(&circle::applied(kept, &wanted), version));
    Ok(())
}
