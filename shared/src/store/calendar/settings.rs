//! A tenant's calendar settings, stored as their validated view; defaults until set. They
//! outlive the connection (disconnecting does not forget the working week).

use super::super::{ItemExt, Store, keys, now_rfc3339, s};
use crate::domain::calendar::CalendarSettings;
use crate::domain::calendar::settings::{SettingsInput, SettingsView};
use crate::error::{Error, Result};

const SK: &str = "CALSETTINGS";

impl Store {
    pub async fn calendar_settings(&self, tenant_id: &str) -> Result<CalendarSettings> {
        let Some(item) = self.get(keys::tenant(tenant_id), SK).await? else {
            return Ok(CalendarSettings::default());
        };
        let view: SettingsView = serde_json::from_str(&item.str("settings")?)
            .map_err(|_| Error::internal("unreadable calendar settings"))?;
        SettingsInput::from(view)
            .validate()
            .map_err(|_| Error::internal("stored calendar settings no longer validate"))
    }

    pub async fn put_calendar_settings(
        &self,
        tenant_id: &str,
        settings: &CalendarSettings,
    ) -> Result<()> {
        let json = serde_json::to_string(&SettingsView::from(settings)).map_err(Error::internal)?;
        self.client()
            .put_item()
            .table_name(self.table())
            .item(keys::PK, s(keys::tenant(tenant_id)))
            .item(keys::SK, s(SK))
            .item("entity", s("calendar_settings"))
            .item("settings", s(json))
            .item("updated_at", s(now_rfc3339()))
            .send()
            .await?;
        Ok(())
    }
}
