//! The pages behind an introduction email's links, for people who are not signed in:
//! `GET /v1/introduction-links/{token}` shows the introduction and two buttons; they POST the
//! choice, with the token in the form body, to `POST /v1/introduction-links`. Plain HTML, no
//! scripts. Every token that opens nothing gets the same 404 page.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::domain::introductions::links::{self, LinkView};
use crate::domain::introductions::{Choice, Outcome};
use crate::error::{Error, ErrorCode, Result};
use crate::startup::AppState;

const HTML: &str = "text/html; charset=utf-8";

/// Text from people, safe inside HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         button{{font-size:1.1rem;padding:.6rem 1.2rem;margin:.3rem .6rem .3rem 0}}</style>\n\
         </head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(HTML)
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(body)
}

fn not_found_page() -> HttpResponse {
    html(
        actix_web::http::StatusCode::NOT_FOUND,
        page(
            "Link not found",
            "<h1>This link does not open an introduction</h1>\n<p>It may have been used \
             already, or it has expired. Introductions can also be answered in the Hallway app.</p>",
        ),
    )
}

/// The page's answer to an error: the one 404 page for every link that opens nothing.
fn or_not_found(result: Result<HttpResponse>) -> Result<HttpResponse> {
    match result {
        Err(error) if error.code() == "introduction_link_not_found" => Ok(not_found_page()),
        other => other,
    }
}

fn render(view: &LinkView, token: &str, preferred: Option<Choice>) -> String {
    let other = &view.other;
    let name = escape(&other.name);
    let mut about = String::new();
    for (label, value) in [
        ("Headline", &other.headline),
        ("Company", &other.company),
        ("Email", &other.email),
        ("Phone", &other.phone),
    ] {
        if let Some(value) = value {
            about.push_str(&format!("<dt>{label}</dt><dd>{}</dd>\n", escape(value)));
        }
    }
    if !other.can_talk_about.is_empty() {
        about.push_str(&format!(
            "<dt>Can talk about</dt><dd>{}</dd>\n",
            escape(&other.can_talk_about.join(", "))
        ));
    }
    if !other.want_to_learn.is_empty() {
        about.push_str(&format!(
            "<dt>Wants to learn</dt><dd>{}</dd>\n",
            escape(&other.want_to_learn.join(", "))
        ));
    }
    let hint = match preferred {
        Some(Choice::Accept) => "<p>You followed the link to accept. Confirm below.</p>\n",
        Some(Choice::Decline) => "<p>You followed the link to decline. Confirm below.</p>\n",
        None => "",
    };
    let body = format!(
        "<h1>{introducer} would like to introduce you to {name}</h1>\n\
         <h2>Their note to you</h2>\n<p>{note}</p>\n\
         <h2>About {name}</h2>\n<dl>\n<dt>Name</dt><dd>{name}</dd>\n{about}</dl>\n\
         <p>If you both accept, you become each other's connections on Hallway. If you decline, \
         nobody is told.</p>\n{hint}\
         <form method=\"post\" action=\"/v1/introduction-links\">\n\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
         <fieldset>\n<legend>Your answer (until {until} UTC)</legend>\n\
         <button type=\"submit\" name=\"choice\" value=\"accept\">Accept the introduction</button>\n\
         <button type=\"submit\" name=\"choice\" value=\"decline\">Decline</button>\n\
         </fieldset>\n</form>",
        introducer = escape(&view.introducer),
        note = escape(&view.note),
        token = escape(token),
        until = view.expires_at.format("%Y-%m-%d %H:%M"),
    );
    page(&format!("Introduction to {}", other.name), &body)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// The link followed: `accept` or `decline`. Only preselects the page's wording; nothing is
    /// decided by opening the link.
    pub choice: Option<String>,
}

/// The page of an emailed introduction link: the introduction and two buttons that POST the
/// choice. Opening it decides nothing (mail scanners open every link). No sign-in: the token is
/// the credential (256 random bits, stored hashed, 14 days, used up by an answer); the path is
/// kept out of the server's logs.
#[utoipa::path(
    tag = "introductions",
    params(("token" = String, Path, description = "The token from the email's link."), LinkQuery),
    responses(
        (status = 200, description = "The page.", content_type = "text/html", body = String),
        (status = 400, description = "The query is malformed (`invalid_query`).", content_type = "application/problem+json", body = crate::error::Problem),
        (status = 404, description = "The link opens nothing: used, expired, answered, guessed — the same page for each.", content_type = "text/html", body = String),
    )
)]
#[get("/introduction-links/{token}")]
pub async fn open_link(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse> {
    let token = path.into_inner();
    let preferred = query.into_inner().choice.as_deref().and_then(Choice::parse);
    let lookup = token.clone();
    or_not_found(
        state
            .db
            .read(move |conn| links::open(conn, &lookup))
            .await
            .map(|view| html(actix_web::http::StatusCode::OK, render(&view, &token, preferred))),
    )
}

#[derive(Deserialize, ToSchema)]
pub struct LinkForm {
    /// The token of the page's link.
    pub token: String,
    /// `accept` or `decline`.
    pub choice: String,
}

/// The choice posted by the page's buttons (`application/x-www-form-urlencoded`), with the token
/// in the body. Answers with a page saying what happens next.
#[utoipa::path(
    tag = "introductions",
    request_body(content = LinkForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The answer is recorded.", content_type = "text/html", body = String),
        (status = 400, description = "The form is malformed, or `choice` is neither `accept` nor `decline` (`invalid_body`).", content_type = "application/problem+json", body = crate::error::Problem),
        (status = 404, description = "The token opens nothing: used, expired, answered, guessed — the same page for each.", content_type = "text/html", body = String),
        (status = 408, description = "The body came too slowly (`request_timeout`).", content_type = "application/problem+json", body = crate::error::Problem),
        (status = 413, description = "The body is too large (`payload_too_large`).", content_type = "application/problem+json", body = crate::error::Problem),
        (status = 415, description = "The body is not a form (`unsupported_media_type`).", content_type = "application/problem+json", body = crate::error::Problem),
    )
)]
#[post("/introduction-links")]
pub async fn answer_link(
    state: web::Data<AppState>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse> {
    let LinkForm { token, choice } = form.into_inner();
    let choice = Choice::parse(&choice).ok_or_else(|| {
        Error::bad_request(ErrorCode::InvalidBody, "choice must be accept or decline")
    })?;
    let url = state.config.public_url.clone();
    let result = state.db.write(move |conn| links::decide(conn, &url, &token, choice)).await;
    state.outbox_wake.notify_one();
    let said = match result {
        Ok(Outcome::Connected) => {
            "<h1>You are connected</h1>\n<p>You both accepted: you are now connected on \
             Hallway, and an email with the details is on its way.</p>"
        }
        Ok(Outcome::Waiting) => {
            "<h1>Thank you</h1>\n<p>Your answer is recorded. If the other person accepts too, \
             you will both get an email and become connections on Hallway.</p>"
        }
        Ok(Outcome::Declined) => {
            "<h1>Thank you</h1>\n<p>You declined. Nobody is told; you will hear no more about \
             this introduction.</p>"
        }
        Err(error) => return or_not_found(Err(error)),
    };
    Ok(html(actix_web::http::StatusCode::OK, page("Introduction", said)))
}
