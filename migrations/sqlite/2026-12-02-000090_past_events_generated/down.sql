-- Which events were marked cannot be told apart afterwards: nothing to undo.
SELECT 1;
