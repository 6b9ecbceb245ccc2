-- People to meet rank the choosers of one's topics: this index alone answers who chose a topic
-- and how (see db::introductions::choosers_of); it replaces the index on topic_id alone.
CREATE INDEX membership_topics_topic_choice ON membership_topics (topic_id, membership_id, kind);
DROP INDEX membership_topics_topic;
