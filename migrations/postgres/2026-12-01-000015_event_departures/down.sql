DROP TABLE event_departures;
