//! The closed list of problem `code`s: every [`crate::error::Error`] carries one of these, and the
//! OpenAPI document lists them as the enum of `Problem.code`.

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = $code:literal,)+) => {
        /// A stable machine-readable code of a problem document.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order of the list.
            pub const ALL: &[ErrorCode] = &[$(Self::$variant,)+];

            /// The code as clients see it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)+
                }
            }

            /// What the code means, for the documentation.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!($($doc),+),)+
                }
            }
        }
    };
}

error_codes! {
    /// The two people are connected already.
    AlreadyConnected = "already_connected",
    /// An attendee id that is not an attendee of this event.
    AttendeeNotFound = "attendee_not_found",
    /// A person named is not a member of this event.
    AttendeeNotInEvent = "attendee_not_in_event",
    /// No badge of this event has this code.
    BadgeNotFound = "badge_not_found",
    /// The badge was replaced: this code no longer works.
    BadgeRevoked = "badge_revoked",
    /// No calendar feed with this token (revoked, rotated or never issued).
    CalendarFeedNotFound = "calendar_feed_not_found",
    /// A person cannot block themselves.
    CannotBlockSelf = "cannot_block_self",
    /// This introduction cannot be made (closed to introductions, blocked, or declined before).
    CannotIntroduce = "cannot_introduce",
    /// An introduction names the same person twice.
    CannotIntroduceToThemselves = "cannot_introduce_to_themselves",
    /// The introducer is one of the two people.
    CannotIntroduceYourself = "cannot_introduce_yourself",
    /// The scanner's own badge.
    CannotScanSelf = "cannot_scan_self",
    /// The sign-in code has expired or was used up.
    CodeExpired = "code_expired",
    /// No such connection of the caller's.
    ConnectionNotFound = "connection_not_found",
    /// The database does not answer, or takes no writes.
    DatabaseUnavailable = "database_unavailable",
    /// A follow-up due before the two people met.
    DueBeforeConnection = "due_before_connection",
    /// The client scan id was used before for another badge; the first use stands.
    DuplicateScan = "duplicate_scan",
    /// An import without attendee rows.
    EmptyImport = "empty_import",
    /// No such event for the caller.
    EventNotFound = "event_not_found",
    /// The connection has as many follow-ups as it may.
    FollowUpLimitReached = "follow_up_limit_reached",
    /// No such follow-up of the caller's.
    FollowUpNotFound = "follow_up_not_found",
    /// An unexpected failure on the server.
    Internal = "internal",
    /// This side of the introduction has answered already.
    IntroductionAnswered = "introduction_answered",
    /// The link opens no introduction: used, expired or unknown.
    IntroductionLinkNotFound = "introduction_link_not_found",
    /// No such introduction of the caller's.
    IntroductionNotFound = "introduction_not_found",
    /// These two have an introduction waiting for answers.
    IntroductionPending = "introduction_pending",
    /// A JSON body that is not of the operation's shape (unknown or missing fields, wrong types).
    InvalidBody = "invalid_body",
    /// A wrong sign-in code.
    InvalidCode = "invalid_code",
    /// A CSV file that cannot be read.
    InvalidCsv = "invalid_csv",
    /// A CSV header with an unknown or missing column.
    InvalidCsvHeader = "invalid_csv_header",
    /// A join code that does not open this event, or joining by code is off.
    InvalidJoinCode = "invalid_join_code",
    /// A path parameter that cannot be read.
    InvalidPath = "invalid_path",
    /// A query string that cannot be read.
    InvalidQuery = "invalid_query",
    /// A refresh token that is unknown, expired or revoked.
    InvalidRefreshToken = "invalid_refresh_token",
    /// An access token that is not valid.
    InvalidToken = "invalid_token",
    /// A body that is not JSON.
    MalformedJson = "malformed_json",
    /// The path exists, but not with this method; `Allow` lists the methods it has.
    MethodNotAllowed = "method_not_allowed",
    /// A person named is not one of the caller's connections.
    NotYourConnection = "not_your_connection",
    /// The connection or the person has as many notes as they may.
    NoteLimitReached = "note_limit_reached",
    /// The event has as many organizers as it may.
    OrganizerLimitReached = "organizer_limit_reached",
    /// No co-organizer with this id in this event.
    OrganizerNotFound = "organizer_not_found",
    /// Only the event's organizers may do this.
    OrganizerOnly = "organizer_only",
    /// SQLite only: too many writes are waiting; see `Retry-After`.
    Overloaded = "overloaded",
    /// The body is larger than the operation takes.
    PayloadTooLarge = "payload_too_large",
    /// A mail budget of the last 24 hours is spent; see `Retry-After`.
    QuotaExceeded = "quota_exceeded",
    /// Too many requests; see `Retry-After`.
    RateLimited = "rate_limited",
    /// A refresh token used twice: the whole session is revoked.
    RefreshTokenReused = "refresh_token_reused",
    /// The request was refused as unsafe (control characters and the like).
    Refused = "refused",
    /// The badge-sheet renderer is full; see `Retry-After`.
    RendererBusy = "renderer_busy",
    /// The body did not arrive in time.
    RequestTimeout = "request_timeout",
    /// There is no such route.
    RouteNotFound = "route_not_found",
    /// Another event has this slug.
    SlugTaken = "slug_taken",
    /// The account is the only organizer of an event.
    SoleOrganizer = "sole_organizer",
    /// No such starter.
    StarterNotFound = "starter_not_found",
    /// Starters asked for oneself.
    StartersForSelf = "starters_for_self",
    /// The access token has expired: refresh it.
    TokenExpired = "token_expired",
    /// An import of more rows than allowed.
    TooManyRows = "too_many_rows",
    /// The connection has as many touches as it may.
    TouchLimitReached = "touch_limit_reached",
    /// No access token was sent.
    Unauthenticated = "unauthenticated",
    /// A body of a media type the operation does not take.
    UnsupportedMediaType = "unsupported_media_type",
    /// One or more fields are not valid; `errors` names each.
    ValidationFailed = "validation_failed",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn codes_are_unique_snake_case_words() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            assert!(!code.meaning().is_empty());
        }
    }
}
