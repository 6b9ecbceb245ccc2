ALTER TABLE connections DROP COLUMN introduction_note;
ALTER TABLE connections DROP COLUMN introduced_by;
ALTER TABLE memberships DROP COLUMN open_to_introductions;
DROP TABLE people_dismissals;
DROP TABLE blocks;
DROP TABLE introduction_tokens;
DROP TABLE introductions;
