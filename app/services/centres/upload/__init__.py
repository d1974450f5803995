"""The centres spreadsheet upload, in three steps with plain data between them.

read (reader.py): the workbook → typed rows and every problem, by row and column;
reconcile (reconcile.py): rows + what is stored → a plan, a pure function;
apply (apply.py): the plan → the database, in one transaction.
"""
