//! The diesel schema, shared by both backends (see `migrations/`).

diesel::table! {
    accounts (id) {
        id -> Text,
        email -> Text,
        display_name -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_sign_in_at -> Nullable<Timestamp>,
        time_zone -> Text,
        digest -> Text,
        digest_hour -> Integer,
    }
}

diesel::table! {
    email_codes (id) {
        id -> Text,
        email -> Text,
        code_hash -> Text,
        client_ip -> Text,
        attempts -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        account_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        name -> Text,
        slug -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        time_zone -> Text,
        follow_up_window_days -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        join_code -> Nullable<Text>,
        follow_ups_cursor -> Nullable<Text>,
        follow_ups_generated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    memberships (id) {
        id -> Text,
        event_id -> Text,
        account_id -> Text,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        name -> Nullable<Text>,
        company -> Nullable<Text>,
        headline -> Nullable<Text>,
        bio -> Nullable<Text>,
        phone -> Nullable<Text>,
        links -> Text,
        in_directory -> Bool,
        share_email -> Bool,
        share_phone -> Bool,
        share_company -> Bool,
        share_headline -> Bool,
        share_bio -> Bool,
        share_links -> Bool,
        invited_at -> Nullable<Timestamp>,
        sharing_confirmed_at -> Nullable<Timestamp>,
        open_to_introductions -> Bool,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        next_attempt_at -> Timestamp,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        sender_id -> Nullable<Text>,
        event_id -> Nullable<Text>,
        priority -> Integer,
        dead_at -> Nullable<Timestamp>,
        secret -> Nullable<Text>,
    }
}

diesel::table! {
    sign_in_failures (id) {
        id -> Text,
        email -> Text,
        client_ip -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    topics (id) {
        id -> Text,
        event_id -> Text,
        slug -> Text,
        name -> Text,
        description -> Text,
        prompts -> Text,
        position -> Integer,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    membership_topics (membership_id, topic_id, kind) {
        membership_id -> Text,
        topic_id -> Text,
        event_id -> Text,
        kind -> Text,
    }
}

diesel::table! {
    badges (id) {
        id -> Text,
        event_id -> Text,
        membership_id -> Text,
        code -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    scans (id) {
        id -> Text,
        event_id -> Text,
        scanner_id -> Text,
        client_scan_id -> Text,
        badge_code -> Text,
        scanned_id -> Nullable<Text>,
        status -> Text,
        device_time -> Timestamp,
        scanned_at -> Timestamp,
        server_time -> Timestamp,
    }
}

diesel::table! {
    connections (id) {
        id -> Text,
        event_id -> Text,
        owner_id -> Text,
        other_id -> Text,
        first_met_at -> Timestamp,
        last_met_at -> Timestamp,
        scan_count -> Integer,
        tags -> Text,
        rating -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        change_seq -> BigInt,
        note_count -> Integer,
        cadence -> Nullable<Text>,
        cadence_days -> Nullable<Integer>,
        last_touched_at -> Nullable<Timestamp>,
        introduced_by -> Nullable<Text>,
        introduction_note -> Nullable<Text>,
    }
}

diesel::table! {
    connection_notes (id) {
        id -> Text,
        connection_id -> Text,
        event_id -> Text,
        body -> Text,
        written_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    connection_tombstones (connection_id) {
        connection_id -> Text,
        event_id -> Text,
        owner_id -> Text,
        other_id -> Text,
        first_met_at -> Timestamp,
        last_met_at -> Timestamp,
        scan_count -> Integer,
        created_at -> Timestamp,
        deleted_at -> Timestamp,
        change_seq -> BigInt,
    }
}

diesel::table! {
    sync_counters (membership_id) {
        membership_id -> Text,
        event_id -> Text,
        last_change -> BigInt,
    }
}

diesel::table! {
    event_departures (event_id, email) {
        event_id -> Text,
        email -> Text,
        left_at -> Timestamp,
    }
}

diesel::table! {
    follow_ups (id) {
        id -> Text,
        event_id -> Text,
        connection_id -> Text,
        owner_id -> Text,
        account_id -> Text,
        kind -> Text,
        note -> Nullable<Text>,
        due_on -> Nullable<Date>,
        due_at -> Nullable<Timestamp>,
        queue_at -> Timestamp,
        state -> Text,
        is_open -> Bool,
        snoozed_until -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        completion_note -> Nullable<Text>,
        origin -> Text,
        origin_starter_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    touches (id) {
        id -> Text,
        event_id -> Text,
        connection_id -> Text,
        owner_id -> Text,
        account_id -> Text,
        note -> Nullable<Text>,
        happened_at -> Timestamp,
        happened_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    digests_sent (account_id, period_key) {
        account_id -> Text,
        period_key -> Text,
        items -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (account_id) {
        account_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    starter_shows (id) {
        id -> Text,
        event_id -> Text,
        viewer_id -> Text,
        other_id -> Text,
        prompt_id -> Text,
        topic_slug -> Text,
        stage -> Text,
        shown_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        helpful -> Nullable<Bool>,
        feedback_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    prompt_counts (event_id, prompt_id, topic_slug) {
        event_id -> Text,
        prompt_id -> Text,
        topic_slug -> Text,
        shown -> BigInt,
        used -> BigInt,
        helpful -> BigInt,
        not_helpful -> BigInt,
    }
}

diesel::table! {
    starter_settings (event_id) {
        event_id -> Text,
        builtin_prompts -> Bool,
        disabled_prompts -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    introductions (id) {
        id -> Text,
        event_id -> Text,
        introducer_id -> Text,
        introducer_account_id -> Text,
        side_a -> Text,
        side_a_account_id -> Text,
        side_b -> Text,
        side_b_account_id -> Text,
        note_a -> Text,
        note_b -> Text,
        answer_a -> Nullable<Text>,
        answer_b -> Nullable<Text>,
        state -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    introduction_tokens (token_hash) {
        token_hash -> Text,
        introduction_id -> Text,
        membership_id -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    blocks (blocker_id, blocked_id) {
        blocker_id -> Text,
        blocked_id -> Text,
        event_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    people_dismissals (membership_id, dismissed_id) {
        membership_id -> Text,
        dismissed_id -> Text,
        event_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(refresh_tokens -> accounts (account_id));
diesel::joinable!(memberships -> accounts (account_id));
diesel::joinable!(memberships -> events (event_id));
diesel::joinable!(topics -> events (event_id));
diesel::joinable!(membership_topics -> memberships (membership_id));
diesel::joinable!(membership_topics -> topics (topic_id));
diesel::joinable!(badges -> memberships (membership_id));
diesel::joinable!(connection_notes -> connections (connection_id));
diesel::joinable!(follow_ups -> connections (connection_id));
diesel::joinable!(follow_ups -> events (event_id));
diesel::joinable!(touches -> connections (connection_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    email_codes,
    refresh_tokens,
    events,
    memberships,
    outbox,
    sign_in_failures,
    topics,
    membership_topics,
    badges,
    scans,
    connections,
    connection_notes,
    connection_tombstones,
    sync_counters,
    event_departures,
    follow_ups,
    touches,
    digests_sent,
    calendar_feeds,
    starter_shows,
    prompt_counts,
    starter_settings,
    introductions,
    introduction_tokens,
    blocks,
    people_dismissals,
);
