DROP INDEX connections_event;
