# Registers `xlsync serve` (the look-up page for phones) as a Windows scheduled task that
# starts with the PC, beside the "xlsync watch" task (install-windows-task.ps1).
# Run in an elevated PowerShell on the office PC that sees the shared folder:
#   powershell -ExecutionPolicy Bypass -File install-windows-serve-task.ps1 -Folder "\\server\share\客户登记" `
#       -Cert C:\xlsync\office.pem -Key C:\xlsync\office.key
# Add the accounts first, as the same user: xlsync users add "\\server\share\客户登记" 张伟
# (they go to that user's %LOCALAPPDATA%\xlsync\accounts.json, never to the share).
param(
    [Parameter(Mandatory = $true)][string]$Folder,
    [string]$Xlsync = (Get-Command xlsync.exe -ErrorAction Stop).Source,
    [string]$User = "$env:USERDOMAIN\$env:USERNAME",
    [string]$HostAddress = "0.0.0.0",
    [int]$Port = 8765,
    [string]$Cert = "",
    [string]$Key = ""
)
$arguments = "serve `"$Folder`" --host $HostAddress --port $Port"
if ($Cert -and $Key) {
    $arguments += " --cert `"$Cert`" --key `"$Key`""
} else {
    Write-Warning "No -Cert/-Key: passwords will cross the network unencrypted. Use TLS or a VPN."
}
$action = New-ScheduledTaskAction -Execute $Xlsync -Argument $arguments
$trigger = New-ScheduledTaskTrigger -AtStartup
$settings = New-ScheduledTaskSettingsSet -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) `
    -ExecutionTimeLimit ([TimeSpan]::Zero) -StartWhenAvailable
Register-ScheduledTask -TaskName "xlsync serve" -Action $action -Trigger $trigger `
    -Settings $settings -User $User -RunLevel Limited -Force
Start-ScheduledTask -TaskName "xlsync serve"
# Let phones on the office network reach the port (private profile only).
New-NetFirewallRule -DisplayName "xlsync serve" -Direction Inbound -Protocol TCP -LocalPort $Port `
    -Profile Private -Action Allow -ErrorAction SilentlyContinue | Out-Null
Write-Host "xlsync serve is running for $Folder on port $Port (audit: xlsync users log `"$Folder`")"
