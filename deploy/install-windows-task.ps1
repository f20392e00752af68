# Registers the xlsync watcher as a Windows scheduled task that starts with the PC.
# Run in an elevated PowerShell on the office PC that sees the shared folder:
#   powershell -ExecutionPolicy Bypass -File install-windows-task.ps1 -Folder "\\server\share\客户登记"
param(
    [Parameter(Mandatory = $true)][string]$Folder,
    [string]$Xlsync = (Get-Command xlsync.exe -ErrorAction Stop).Source,
    [string]$User = "$env:USERDOMAIN\$env:USERNAME"
)
$action = New-ScheduledTaskAction -Execute $Xlsync -Argument "watch `"$Folder`" --poll --rescan 30"
$trigger = New-ScheduledTaskTrigger -AtStartup
$settings = New-ScheduledTaskSettingsSet -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) `
    -ExecutionTimeLimit ([TimeSpan]::Zero) -StartWhenAvailable
# The task runs as a user who can reach the share (a UNC path, not a mapped drive letter).
Register-ScheduledTask -TaskName "xlsync watch" -Action $action -Trigger $trigger `
    -Settings $settings -User $User -RunLevel Limited -Force
Start-ScheduledTask -TaskName "xlsync watch"
Write-Host "xlsync watch is running for $Folder (log: $Folder\.xlsync\watch.log)"
