# Methods defined, run and removed in batches, then collected, so their iseqs (and the
# memory behind them) are freed and reused. Even batches' methods call Integer#times, odd
# batches' Array#each: a frame named after a method of another batch shows under the wrong
# C function. Usage: ruby wl_churn.rb SECONDS
def cpu = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID)

ARR = (1..3000).to_a
batch = 0
start = cpu
while cpu - start < ARGV[0].to_f
  names = (0...8).map { |i| "w#{batch}_#{i}" }
  names.each do |n|
    body = batch.even? ? '3000.times { |k| s += k }' : 'ARR.each { |k| s += k }'
    Object.class_eval("def #{n}; s = 0; #{body}; s; end")
  end
  20.times { names.each { |n| send(n) } }
  names.each { |n| Object.send(:remove_method, n) }
  GC.start
  batch += 1
end
puts "batches=#{batch}"
