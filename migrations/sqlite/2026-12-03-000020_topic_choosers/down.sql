CREATE INDEX membership_topics_topic ON membership_topics (topic_id);
DROP INDEX membership_topics_topic_choice;
