//! Independent parsers for what Hallway writes: Python's `vobject` (vCard) and `icalendar`
//! (iCalendar), from Debian's python3-vobject and python3-icalendar (`scripts/lib.sh`
//! `ensure_test_deps` installs them). Each parses a file and prints what it read as JSON.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// The Python that has the parsers: Debian's, unless `HALLWAY_TEST_PYTHON` names another (a
/// `python3` earlier on the PATH, as pyenv's, would not see Debian's packages).
fn python() -> String {
    std::env::var("HALLWAY_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".to_owned())
}

fn run(script: &str, input: &[u8]) -> Value {
    let mut child = Command::new(python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with vobject and icalendar (scripts/lib.sh ensure_test_deps)");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the parser refused the file: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(input)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every card of a vCard file: each property's name (lower case) → its values as vobject
/// unescaped them (a list for list-valued properties such as `CATEGORIES` and `ORG`).
pub fn vcards(file: &[u8]) -> Vec<Value> {
    const SCRIPT: &str = r#"
import json, sys, vobject
cards = []
for card in vobject.readComponents(sys.stdin.buffer.read().decode("utf-8")):
    props = {}
    for child in card.getChildren():
        props.setdefault(child.name.lower(), []).append(child.value)
    cards.append(props)
print(json.dumps(cards))
"#;
    run(SCRIPT, file).as_array().unwrap().clone()
}

/// Every `VTODO` of an iCalendar file: uid, summary, description, status, due as
/// `{"date": "YYYY-MM-DD"}` or `{"utc": "…"}`, and when completed (UTC); and the calendar's own
/// name.
pub fn icalendar(file: &[u8]) -> Value {
    const SCRIPT: &str = r#"
import datetime, json, sys, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
todos = []
for todo in cal.walk("VTODO"):
    item = {k: str(todo.get(k)) for k in ("UID", "SUMMARY", "DESCRIPTION", "STATUS") if k in todo}
    if "DUE" in todo:
        due = todo.decoded("DUE")
        if isinstance(due, datetime.datetime):
            item["DUE"] = {"utc": due.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        else:
            item["DUE"] = {"date": due.isoformat()}
    if "COMPLETED" in todo:
        done = todo.decoded("COMPLETED")
        item["COMPLETED"] = done.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    todos.append(item)
print(json.dumps({"name": str(cal.get("X-WR-CALNAME")), "version": str(cal.get("VERSION")), "todos": todos}))
"#;
    run(SCRIPT, file)
}
