# Runs first at every reset. Kept tiny: a mistake here would stop main.py from
# running, so everything that can fail lives in app.py and reports itself there.
import gc

gc.collect()
