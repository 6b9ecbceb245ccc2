DROP TABLE connection_tombstones;
