from drawdown.cli import app

app(prog_name="drawdown")
