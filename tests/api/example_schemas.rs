//! The examples of the OpenAPI document against its schemas: each request and response example
//! matches the schema it illustrates, every family of operations shows a successful answer, and
//! every error answer shows its problem.

use serde_json::{Value, json};

fn document() -> Value {
    serde_json::from_str(&hallway::http::openapi_json()).unwrap()
}

/// Every example in the document (request and response bodies) against its schema, with the
/// document's components and formats (`email`, `uuid`, `date-time`…) checked.
#[test]
fn every_documented_example_matches_its_schema() {
    let document = document();
    let mut checked = 0;
    let mut invalid = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let mut bodies: Vec<(String, &Value)> = Vec::new();
            if let Some(content) = operation.pointer("/requestBody/content") {
                for (media_type, body) in content.as_object().unwrap() {
                    bodies.push((format!("request {media_type}"), body));
                }
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                for (media_type, body) in response["content"].as_object().into_iter().flatten() {
                    bodies.push((format!("{status} {media_type}"), body));
                }
            }
            for (what, body) in bodies {
                let Some(example) = body.get("example") else { continue };
                let root = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "components": document["components"],
                    "allOf": [body["schema"]],
                });
                let validator =
                    jsonschema::options().should_validate_formats(true).build(&root).unwrap();
                checked += 1;
                for error in validator.iter_errors(example) {
                    invalid.push(format!(
                        "{method} {path} {what}: {error} at {}",
                        error.instance_path()
                    ));
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} examples");
    // The check itself catches a wrong value, a wrong format and a missing field.
    for (schema, wrong) in [
        ("Health", json!({ "status": "down" })),
        ("EmailCodeRequest", json!({ "email": "not-an-email" })),
        ("ScanRequest", json!({ "badge_code": "7QHJY3H0EJ2Y120JF7AB" })),
    ] {
        let root = json!({
            "components": document["components"],
            "$ref": format!("#/components/schemas/{schema}"),
        });
        let validator = jsonschema::options().should_validate_formats(true).build(&root).unwrap();
        assert!(!validator.is_valid(&wrong), "{schema} accepts {wrong}");
    }
    assert!(invalid.is_empty(), "examples that do not match their schema: {invalid:#?}");
}

/// A successful JSON answer with an example in every family of operations (tag), and an example
/// on every problem+json answer.
#[test]
fn every_family_has_a_response_example_and_every_error_one() {
    let document = document();
    let mut families = std::collections::BTreeMap::<String, bool>::new();
    let mut errors_without = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let tag = operation["tags"][0].as_str().unwrap().to_owned();
            let family = families.entry(tag).or_default();
            for (status, response) in operation["responses"].as_object().unwrap() {
                for (media_type, body) in response["content"].as_object().into_iter().flatten() {
                    let example = body.get("example").is_some();
                    if media_type == "application/problem+json" && !example {
                        errors_without.push(format!("{method} {path} {status}"));
                    }
                    if status.starts_with('2') && media_type == "application/json" && example {
                        *family = true;
                    }
                }
            }
        }
    }
    let without: Vec<&String> = families.iter().filter(|(_, has)| !**has).map(|(f, _)| f).collect();
    assert!(without.is_empty(), "families without a response example: {without:?}");
    assert!(errors_without.is_empty(), "error answers without an example: {errors_without:#?}");
}
