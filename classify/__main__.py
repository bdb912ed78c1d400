from classify.cli import entry

entry()
