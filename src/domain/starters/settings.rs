//! Organizers' settings for their event's starters: built-in prompts on or off, and built-in
//! prompts switched off one by one. Organizers' own prompts come with the topics (see
//! `domain::topics`).

use std::collections::HashSet;

use chrono::NaiveDateTime;

use super::library;
use super::rank::Settings;
use crate::db::starters::{self as store, SettingsRow};
use crate::db::{self, DbConn};
use crate::error::{Error, FieldError, Result};

/// The event's settings as stored; the defaults (every built-in on) when never set.
#[derive(Debug, Clone)]
pub struct StarterSettings {
    pub builtin_prompts: bool,
    pub disabled_prompts: Vec<String>,
    pub updated_at: Option<NaiveDateTime>,
}

impl StarterSettings {
    /// The settings as stored, or the defaults when never set.
    pub fn from_row(row: Option<SettingsRow>) -> Self {
        match row {
            Some(row) => Self {
                builtin_prompts: row.builtin_prompts,
                disabled_prompts: serde_json::from_str(&row.disabled_prompts).unwrap_or_default(),
                updated_at: Some(row.updated_at),
            },
            None => Self { builtin_prompts: true, disabled_prompts: Vec::new(), updated_at: None },
        }
    }

    pub fn for_ranking(&self) -> Settings {
        Settings {
            builtin_prompts: self.builtin_prompts,
            disabled: self.disabled_prompts.iter().cloned().collect(),
        }
    }

    /// Whether a built-in prompt is offered in the event.
    pub fn offers(&self, prompt_id: &str) -> bool {
        self.builtin_prompts && !self.disabled_prompts.iter().any(|id| id == prompt_id)
    }
}

pub fn load(conn: &mut DbConn, event_id: &str) -> Result<StarterSettings> {
    Ok(StarterSettings::from_row(store::settings(conn, event_id)?))
}

/// Checks that every id names a built-in prompt; gives them without repeats, in library order.
pub fn parse_disabled(ids: &[String]) -> Result<Vec<String>> {
    let errors: Vec<FieldError> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| library::find(id).is_none())
        .map(|(i, id)| {
            FieldError::new(
                format!("disabled_prompts[{i}]"),
                format!("`{id}` is not the id of a built-in prompt"),
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    Ok(library::LIBRARY.iter().filter(|p| wanted.contains(p.id)).map(|p| p.id.to_owned()).collect())
}

/// Replaces the event's settings (call as an organizer, in a write).
pub fn save(
    conn: &mut DbConn,
    event_id: &str,
    builtin_prompts: bool,
    disabled_prompts: Vec<String>,
) -> Result<StarterSettings> {
    let row = SettingsRow {
        event_id: event_id.to_owned(),
        builtin_prompts,
        disabled_prompts: serde_json::to_string(&disabled_prompts).map_err(Error::internal)?,
        updated_at: db::now(),
    };
    store::save_settings(conn, &row)?;
    load(conn, event_id)
}
