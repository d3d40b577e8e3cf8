module chanlab/bench

go 1.19
