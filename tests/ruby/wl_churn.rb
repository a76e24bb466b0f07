# Methods defined, run and removed in batches, then collected, so their iseqs (and the
# memory behind them: bodies, label and path Strings) are freed and reused. Method wB_I
# of batch B is compiled from its own file name, churn_wB_I.rb, so a frame named after
# the wrong method or with another's text reads `Object#wB_I (churn_wC_J.rb:1)`; even
# batches' methods call Integer#times, odd batches' Array#each, so a frame named after a
# method of another batch also shows under the wrong C function.
# Usage: ruby wl_churn.rb SECONDS [CALLS]: each batch's methods run CALLS times (20) before
# they are removed.
def cpu = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID)

ARR = (1..3000).to_a
CALLS = (ARGV[1] || 20).to_i
batch = 0
start = cpu
while cpu - start < ARGV[0].to_f
  names = (0...8).map { |i| "w#{batch}_#{i}" }
  names.each do |n|
    body = batch.even? ? '3000.times { |k| s += k }' : 'ARR.each { |k| s += k }'
    Object.class_eval("def #{n}; s = 0; #{body}; s; end", "churn_#{n}.rb", 1)
  end
  CALLS.times { names.each { |n| send(n) } }
  names.each { |n| Object.send(:remove_method, n) }
  GC.start
  batch += 1
end
puts "batches=#{batch}"
