-- One index fewer to write per show: pruning a viewer's oldest shows reads them by the pair index
-- (its first column is the viewer) and sorts at most a few more than the cap. (PostgreSQL also
-- records a first view's shows in one function call; SQLite's writes go through its one writer.)
DROP INDEX starter_shows_viewer_shown;
