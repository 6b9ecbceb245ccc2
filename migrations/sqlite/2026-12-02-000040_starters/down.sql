DROP TABLE starter_settings;
DROP TABLE prompt_counts;
DROP TABLE starter_shows;
