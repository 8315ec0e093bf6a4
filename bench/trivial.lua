-- trivial.lua: the smallest workflow, for the start-up benchmark (bench/run.sh).
return 0
