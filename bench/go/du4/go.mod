module chanlab/bench/du4

go 1.19
